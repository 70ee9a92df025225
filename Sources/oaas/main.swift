print("oaas")
