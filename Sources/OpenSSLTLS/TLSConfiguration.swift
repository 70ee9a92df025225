/// What a TLS endpoint presents and what it accepts. Files are PEM; `TLSContext` loads them (and reloads them when
/// they change on disk).
public struct TLSConfiguration: Sendable, Hashable {
    public enum Role: Sendable, Hashable {
        case server
        case client
    }

    /// Whether a server asks for client certificates (mTLS). Verification uses `trustRootsFile`.
    public enum ClientCertificateMode: Sendable, Hashable {
        case none
        /// Requested and verified if sent; connections without one are accepted.
        case optional
        /// Connections without a valid client certificate fail the handshake.
        case require
    }

    /// How a client checks the server.
    public enum ServerVerification: Sendable, Hashable {
        /// Chain against the trust roots and the name/IP in `serverName`.
        case full
        /// Chain only (e.g. a pod IP that the certificate does not name).
        case chainOnly
        /// Accept any certificate. For tests and debugging only.
        case none
    }

    public enum ProtocolVersion: Sendable, Hashable {
        case tls12
        case tls13
    }

    public var role: Role
    /// Certificate chain (leaf first). Required for servers; for clients it is the mTLS client certificate.
    public var certificateChainFile: String?
    public var privateKeyFile: String?
    /// CA certificates. Client: the roots the server must chain to (system roots when nil). Server: the roots client
    /// certificates must chain to when `clientCertificate` is not `.none`.
    public var trustRootsFile: String?
    public var clientCertificate: ClientCertificateMode
    public var serverVerification: ServerVerification
    /// ALPN, in preference order. A server picks the first of its list that the client offered.
    public var applicationProtocols: [String]
    /// Client: default SNI name and the host name or IP literal the server certificate must match. Each handler can
    /// override it per connection.
    public var serverName: String?
    public var minimumVersion: ProtocolVersion

    public init(
        role: Role,
        certificateChainFile: String? = nil,
        privateKeyFile: String? = nil,
        trustRootsFile: String? = nil,
        clientCertificate: ClientCertificateMode = .none,
        serverVerification: ServerVerification = .full,
        applicationProtocols: [String] = ["h2"],
        serverName: String? = nil,
        minimumVersion: ProtocolVersion = .tls12
    ) {
        self.role = role
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.trustRootsFile = trustRootsFile
        self.clientCertificate = clientCertificate
        self.serverVerification = serverVerification
        self.applicationProtocols = applicationProtocols
        self.serverName = serverName
        self.minimumVersion = minimumVersion
    }

    public static func server(
        certificateChainFile: String,
        privateKeyFile: String,
        trustRootsFile: String? = nil,
        clientCertificate: ClientCertificateMode = .none,
        applicationProtocols: [String] = ["h2"]
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .server,
            certificateChainFile: certificateChainFile,
            privateKeyFile: privateKeyFile,
            trustRootsFile: trustRootsFile,
            clientCertificate: clientCertificate,
            applicationProtocols: applicationProtocols
        )
    }

    public static func client(
        serverName: String? = nil,
        trustRootsFile: String? = nil,
        certificateChainFile: String? = nil,
        privateKeyFile: String? = nil,
        serverVerification: ServerVerification = .full,
        applicationProtocols: [String] = ["h2"]
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .client,
            certificateChainFile: certificateChainFile,
            privateKeyFile: privateKeyFile,
            trustRootsFile: trustRootsFile,
            serverVerification: serverVerification,
            applicationProtocols: applicationProtocols,
            serverName: serverName
        )
    }
}

/// Errors from loading TLS material and from TLS connections. `description` carries OpenSSL's reason strings.
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Invalid configuration (e.g. a server without a certificate, an over-long ALPN name).
        case invalidConfiguration
        /// A certificate, key or CA file could not be read or parsed, or the key does not match the certificate.
        case fileLoad
        /// OpenSSL could not allocate a context or connection object.
        case resource
        /// The handshake failed (bad peer bytes, no shared protocol, alert from the peer, ...).
        case handshakeFailed
        /// The peer's certificate did not verify (unknown issuer, wrong host name, expired, missing, ...).
        case certificateVerificationFailed
        /// A TLS protocol error after the handshake (bad record, unexpected message).
        case protocolError
        /// Writes after the connection was closed or failed.
        case closed
    }

    public var kind: Kind
    public var message: String
    /// The file involved, for `.fileLoad`.
    public var file: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
    }

    public var description: String {
        if let file { return "TLS \(kind): \(file): \(message)" }
        return "TLS \(kind): \(message)"
    }
}

/// Fired as a user inbound event by `OpenSSLHandler` once the handshake has completed.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    /// The ALPN protocol agreed on, nil if none.
    public var negotiatedProtocol: String?
    /// The peer certificate's subject (RFC 2253), nil if the peer sent none.
    public var peerCertificateSubject: String?
    /// The peer certificate's serial number (upper-case hex), nil if the peer sent none.
    public var peerCertificateSerial: String?
    /// "TLSv1.3", "TLSv1.2".
    public var protocolVersion: String

    public init(
        negotiatedProtocol: String?,
        peerCertificateSubject: String?,
        peerCertificateSerial: String? = nil,
        protocolVersion: String = ""
    ) {
        self.negotiatedProtocol = negotiatedProtocol
        self.peerCertificateSubject = peerCertificateSubject
        self.peerCertificateSerial = peerCertificateSerial
        self.protocolVersion = protocolVersion
    }
}
