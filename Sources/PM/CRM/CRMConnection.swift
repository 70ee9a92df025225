import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSCore
import ServiceLifecycle

/// The long-lived gRPC channel to one env's CRM (spec §8.1): h2c for `http://`, TLS for `https://` with the env's
/// CA, client certificate and verification settings. Run it as a `Service`; calls fail fast while it is down.
public struct CRMConnection: Service {
    public let env: String
    public let grpcClient: GRPCClient<HTTP2ClientTransport.Posix>

    /// Throws `ConfigurationError` naming the env when the URL or a TLS file is unusable.
    public init(config: CRMEnvConfig) throws(ConfigurationError) {
        guard let endpoint = CRMEnvConfig.endpoint(of: config.url) else {
            throw ConfigurationError("CRM env '\(config.name)': '\(config.url)' is not an http(s)://host:port URL")
        }
        var transportConfig = HTTP2ClientTransport.Posix.Config.defaults
        // A CRM that restarts should be reachable again within seconds, not after two minutes of backoff.
        transportConfig.backoff = .init(initial: .milliseconds(200), max: .seconds(10), multiplier: 1.6, jitter: 0.2)
        transportConfig.http2.maxFrameSize = 1 << 20
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if endpoint.secure || config.tls != nil {
            security = .tls(try Self.tls(config.tls ?? .init(), env: config.name))
        } else {
            security = .plaintext
        }
        do {
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: endpoint.host, port: endpoint.port),
                transportSecurity: security,
                config: transportConfig
            )
            grpcClient = GRPCClient(transport: transport)
        } catch {
            throw ConfigurationError("CRM env '\(config.name)': cannot set up the connection to \(config.url): \(error)")
        }
        env = config.name
    }

    public var client: GRPCCRMClient<HTTP2ClientTransport.Posix> { GRPCCRMClient(client: grpcClient) }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await grpcClient.runConnections()
        } onGracefulShutdown: {
            grpcClient.beginGracefulShutdown()
        }
    }

    private static func tls(_ settings: CRMEnvConfig.TLS, env: String) throws(ConfigurationError) -> HTTP2ClientTransport.Posix.TransportSecurity.TLS {
        for (label, path) in [("CA certificate", settings.caCertPath), ("client certificate", settings.clientCertPath), ("client key", settings.clientKeyPath)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw ConfigurationError("CRM env '\(env)': \(label) '\(path)' does not exist or is not readable")
            }
        }
        return .defaults { tls in
            if let ca = settings.caCertPath { tls.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
            if let cert = settings.clientCertPath, let key = settings.clientKeyPath {
                tls.certificateChain = [.file(path: cert, format: .pem)]
                tls.privateKey = .file(path: key, format: .pem)
            }
            if settings.insecure { tls.serverCertificateVerification = .noVerification }
        }
    }
}
