import GRPCCore
import GRPCNIOTransportHTTP2
import NGHTTP2Transport

/// What our gRPC clients tune, whichever engine carries them.
public struct ClientTuning: Sendable {
    /// First reconnect delay and its cap: nodes and runtimes come back within seconds after a restart.
    public var reconnectInitial: Duration = .milliseconds(100)
    public var reconnectMax: Duration = .seconds(5)
    public var maxIdle: Duration? = nil
    public var maxMessageBytes: Int = 4 * 1024 * 1024

    public init() {}
}

extension DataPathClientTransport {
    /// A client transport to `host:port`. TLS endpoints use the NIO transport until the nghttp2 client carries
    /// OpenSSL; plaintext ones use `kind`.
    public static func make(
        host: String, port: Int, tls: Bool = false, kind: GRPCTransportKind = .nghttp2, tuning: ClientTuning = ClientTuning(),
        serviceConfig: ServiceConfig = ServiceConfig()
    ) throws -> DataPathClientTransport {
        if kind == .nghttp2, !tls {
            var config = NGHTTP2ClientTransport.Config.defaults
            config.backoff = .init(initial: tuning.reconnectInitial, max: tuning.reconnectMax, multiplier: 1.6, jitter: 0.2)
            config.maxMessageBytes = tuning.maxMessageBytes
            if let idle = tuning.maxIdle { config.idleTimeout = idle }
            return DataPathClientTransport(engine: .nghttp2(
                NGHTTP2ClientTransport(host: host, port: port, config: config, serviceConfig: serviceConfig)))
        }
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.backoff = .init(initial: tuning.reconnectInitial, max: tuning.reconnectMax, multiplier: 1.6, jitter: 0.2)
        config.connection.maxIdleTime = tuning.maxIdle
        config.http2.maxFrameSize = 1 << 20
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: host, port: port),
            transportSecurity: tls ? .tls : .plaintext,
            config: config,
            serviceConfig: serviceConfig
        )
        return DataPathClientTransport(engine: .nio(transport))
    }
}
