print("oaas-functions: not built yet")
