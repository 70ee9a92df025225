import GRPCCore
import GRPCServing
import GRPCNIOTransportHTTP2
import Logging
import OaaSProto
import ServiceLifecycle

/// A running function runtime: the h2c gRPC server for `oprc.OprcFunction` and the one pooled
/// DataService client its handlers share. A swift-service-lifecycle `Service`: on graceful
/// shutdown it stops accepting calls, lets in-flight handlers finish (each bounded by its own
/// deadline), then closes the DataService connection.
public final class FunctionServer: Service, Sendable {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    private let dataClient: GRPCClient<HTTP2ClientTransport.Posix>?
    private let onListening: (@Sendable (Int) async -> Void)?
    private let logger: Logger
    private let functionIDs: [String]

    init(
        configuration: FunctionConfiguration,
        registry: FunctionRegistry,
        logger: Logger,
        onListening: (@Sendable (Int) async -> Void)?
    ) throws {
        var connection: ObjectClient.Connection?
        if let address = configuration.odgmService {
            // A runtime often starts before its ODGM: reconnect within a second once ODGM is up, instead of
            // failing calls through gRPC's default backoff of up to two minutes.
            var transportConfig = HTTP2ClientTransport.Posix.Config.defaults
            transportConfig.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
            let client = GRPCClient(
                transport: try HTTP2ClientTransport.Posix(
                    target: .dns(host: address.host, port: address.port),
                    transportSecurity: .plaintext,
                    config: transportConfig
                )
            )
            dataClient = client
            connection = ObjectClient.Connection(
                service: Oprc_DataService.Client(wrapping: client),
                maxMessageBytes: configuration.maxMessageBytes
            )
        } else {
            dataClient = nil
        }

        let bindAddress: GRPCNIOTransportCore.SocketAddress = configuration.host.contains(":")
            ? .ipv6(host: configuration.host, port: configuration.port)
            : .ipv4(host: configuration.host, port: configuration.port)
        var transportConfig = HTTP2ServerTransport.Posix.Config.defaults
        transportConfig.rpc.maxRequestPayloadSize = configuration.maxMessageBytes
        transport = HTTP2ServerTransport.Posix(
            address: bindAddress, transportSecurity: .plaintext, config: transportConfig
        )
        let service = FunctionService(registry: registry, dataConnection: connection, logger: logger)
        server = GRPCServer(transport: transport, services: [service])
        self.onListening = onListening
        self.logger = logger
        self.functionIDs = registry.functionIDs
    }

    /// The bound port, once the server listens (useful with port 0). Throws if binding failed
    /// or the server has stopped.
    public var listeningPort: Int {
        get async throws {
            let address = try await transport.listeningAddress
            if let ipv4 = address.ipv4 { return ipv4.port }
            if let ipv6 = address.ipv6 { return ipv6.port }
            throw RPCError(code: .internalError, message: "the server listens on \(address), which has no port")
        }
    }

    /// Stops accepting calls; ``run()`` returns once in-flight calls have finished. The same as
    /// a graceful shutdown from the `ServiceGroup`, for callers that run the server themselves.
    public func beginGracefulShutdown() {
        server.beginGracefulShutdown()
    }

    public func run() async throws {
        let dataClient = self.dataClient
        let logger = self.logger
        try await withThrowingDiscardingTaskGroup { group in
            if let dataClient {
                group.addTask { try await dataClient.runConnections() }
            }
            group.addTask { await self.announce() }
            // Handlers may still use the DataService until the server has drained.
            defer { dataClient?.beginGracefulShutdown() }
            try await server.serve(drainingWithin: .seconds(10)) {
                logger.warning("calls still open 10 s after shutdown began; closed")
            }
        }
        logger.info("stopped")
    }

    private func announce() async {
        // A bind failure surfaces from serve(); nothing to report here then.
        guard let port = try? await listeningPort else { return }
        logger.info("listening", metadata: [
            "port": "\(port)",
            "functions": "\(functionIDs.joined(separator: ","))",
        ])
        await onListening?(port)
    }
}
