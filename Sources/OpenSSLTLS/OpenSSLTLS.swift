// TLS on the system OpenSSL (libssl) for our own listeners and clients; see the module's handlers.
