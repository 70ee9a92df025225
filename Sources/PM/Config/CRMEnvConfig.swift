import Foundation

/// One environment PM deploys to: the CRM serving it and how to reach it (control-plane spec §7).
public struct CRMEnvConfig: Sendable, Equatable {
    /// PM's name for the env (`^[A-Za-z0-9_-]+$`).
    public var name: String
    /// `http://host:port` (h2c) or `https://host:port` (TLS); `inprocess://<name>` for an in-process CRM.
    public var url: String
    /// Deadline of every call to this CRM (`grpc-timeout`).
    public var timeout: Duration
    /// Attempts of reads and deletes (deploys use `DEPLOY_MAX_RETRIES`).
    public var retryAttempts: Int
    /// The env's gateway, shown by `GET /api/v1/envs`.
    public var gatewayURL: String?
    /// TLS settings; set for `https://` URLs (or `TLS_ENABLED`).
    public var tls: TLS?

    public typealias TLS = TLSFiles

    public static let defaultTimeout: Duration = .seconds(30)
    public static let defaultRetryAttempts = 3

    public init(
        name: String,
        url: String,
        timeout: Duration = defaultTimeout,
        retryAttempts: Int = defaultRetryAttempts,
        gatewayURL: String? = nil,
        tls: TLS? = nil
    ) {
        self.name = name
        self.url = url
        self.timeout = timeout
        self.retryAttempts = retryAttempts
        self.gatewayURL = gatewayURL
        self.tls = tls
    }

    /// True for names of `^[A-Za-z0-9_-]+$`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x2D
        }
    }

    /// Host and port of an `http(s)://host[:port][/]` URL; nil when it is anything else.
    public static func endpoint(of url: String) -> (host: String, port: Int, secure: Bool)? {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty,
              parsed.path.isEmpty || parsed.path == "/", parsed.query == nil
        else { return nil }
        let secure = scheme == "https"
        let port = parsed.port ?? (secure ? 443 : 80)
        guard (1...65_535).contains(port) else { return nil }
        // URLComponents keeps the brackets of an IPv6 literal.
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return (bare, port, secure)
    }
}
