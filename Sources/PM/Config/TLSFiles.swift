/// Certificate files of a TLS client (a CRM connection or etcd): CA to trust, optional client pair for mTLS.
public struct TLSFiles: Sendable, Equatable {
    public var caCertPath: String?
    public var clientCertPath: String?
    public var clientKeyPath: String?
    /// Skips server certificate verification (test clusters only).
    public var insecure: Bool

    public init(caCertPath: String? = nil, clientCertPath: String? = nil, clientKeyPath: String? = nil, insecure: Bool = false) {
        self.caCertPath = caCertPath
        self.clientCertPath = clientCertPath
        self.clientKeyPath = clientKeyPath
        self.insecure = insecure
    }
}
