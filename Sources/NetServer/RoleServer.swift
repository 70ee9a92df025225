import GRPCCore
import GRPCTransports
import NGHTTP2Transport
import GRPCServing
import GRPCNIOTransportHTTP2
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Serves one port for a role: gRPC services and a Hummingbird router on the same listener.
/// Runs as a swift-service-lifecycle `Service`; graceful shutdown stops accepting, lets in-flight
/// calls and requests finish for up to `drainTimeout`, then closes what is left and returns.
public final class RoleServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// gRPC max receive size.
        public var maxMessageBytes: Int
        /// How long a graceful shutdown waits for open calls (long-lived watch streams included) before closing them.
        public var drainTimeout: Duration
        /// The HTTP/2 engine under gRPC (`OAAS_GRPC_TRANSPORT`): nghttp2 unless the NIO fallback is asked for.
        public var transport: GRPCTransportKind

        public init(host: String = "0.0.0.0", port: Int, maxMessageBytes: Int = 4 * 1024 * 1024, drainTimeout: Duration = .seconds(10),
                    transport: GRPCTransportKind = .nghttp2) {
            self.host = host
            self.port = port
            self.maxMessageBytes = maxMessageBytes
            self.drainTimeout = drainTimeout
            self.transport = transport
        }
    }

    public let name: String
    private let configuration: Configuration
    private let services: [any RegistrableRPCService]
    private let interceptors: [any ServerInterceptor]
    private let responder: any HTTPResponder<BasicRequestContext>
    private let makeHTTP1: @Sendable (@escaping HTTPChannelHandler.Responder) -> any HTTPChannelHandler
    private let logger: Logger
    private let bound: BoundAddress

    /// - Parameter http1: builds the handler of HTTP/1.1 connections around the router's responder; the default is
    ///   plain HTTP/1.1, a gateway passes one that also upgrades its WebSocket routes.
    public init(
        name: String,
        configuration: Configuration,
        services: [any RegistrableRPCService],
        interceptors: [any ServerInterceptor] = [],
        router: Router<BasicRequestContext>,
        http1: @escaping @Sendable (@escaping HTTPChannelHandler.Responder) -> any HTTPChannelHandler = { HTTP1Channel(responder: $0) },
        logger: Logger
    ) {
        self.name = name
        self.configuration = configuration
        self.services = services
        self.interceptors = interceptors
        self.responder = router.buildResponder()
        self.makeHTTP1 = http1
        self.logger = logger
        self.bound = BoundAddress(eventLoop: MultiThreadedEventLoopGroup.singleton.any())
    }

    /// The address the listener bound (resolves once it is listening).
    public var boundAddress: NIOCore.SocketAddress {
        get async throws { try await bound.future.get() }
    }

    public func run() async throws {
        let responder = self.responder
        let logger = self.logger
        let http1 = makeHTTP1({ request, responseWriter, channel in
            let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            let response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch {
                response = Response(status: .internalServerError)
            }
            try await responseWriter.write(response: response.head, body: response.body)
        })
        try await serve(http1: http1)
    }

    private func serve<HTTP1: HTTPChannelHandler>(http1: HTTP1) async throws {
        switch configuration.transport {
        case .nghttp2: try await serveOnNGHTTP2(http1: http1)
        case .nio: try await serveOnNIO(http1: http1)
        }
    }

    private func serveOnNGHTTP2<HTTP1: HTTPChannelHandler>(http1: HTTP1) async throws {
        let logger = self.logger
        let (connections, continuation) = AsyncStream<HTTP1.Value>.makeStream()
        var transportConfig = NGHTTP2ServerTransport.Config.defaults
        transportConfig.maxMessageBytes = configuration.maxMessageBytes
        let transport = NGHTTP2ServerTransport(listener: .external, config: transportConfig, logger: logger)
        let listener = NGHTTP2Listener(transport: transport, http1: http1, http1Connections: continuation, logger: logger)
        let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
        let drainTimeout = configuration.drainTimeout
        let host = configuration.host
        let port = configuration.port
        let bound = self.bound
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                defer { continuation.finish() }
                try await withGracefulShutdownHandler {
                    try await server.serve(drainingWithin: drainTimeout) {
                        listener.closeAll()
                        logger.warning("connections still open after the drain timeout; closed")
                    }
                } onGracefulShutdown: {
                    listener.quiesce()
                }
                listener.closeAll()
            }
            group.addTask {
                // Accept only once the transport takes connections, so the first client is never turned away.
                do {
                    await transport.waitUntilListening()
                    if let address = try await listener.bind(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton) {
                        bound.succeed(address)
                    }
                } catch {
                    bound.fail(error)
                    throw error
                }
            }
            for await connection in connections {
                group.addTask { await http1.handle(value: connection, logger: logger) }
            }
        }
        bound.fail(CancellationError())
    }

    private func serveOnNIO<HTTP1: HTTPChannelHandler>(http1: HTTP1) async throws {
        let logger = self.logger
        let (connections, continuation) = AsyncStream<HTTP1.Value>.makeStream()
        let factory = SharedListenerFactory(
            host: configuration.host,
            port: configuration.port,
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            http1: http1,
            http1Connections: continuation,
            bound: bound,
            logger: logger
        )
        var transportConfig = HTTP2ServerTransport.Custom<SharedListenerFactory<HTTP1>>.Config.defaults
        transportConfig.rpc.maxRequestPayloadSize = configuration.maxMessageBytes
        let transport = HTTP2ServerTransport.Custom(listenerFactory: factory, config: transportConfig)
        let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)

        let drainTimeout = configuration.drainTimeout
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                defer { continuation.finish() }
                try await server.serve(drainingWithin: drainTimeout) {
                    logger.warning("connections still open after the drain timeout; closed")
                }
            }
            for await connection in connections {
                group.addTask { await http1.handle(value: connection, logger: logger) }
            }
        }
        bound.fail(CancellationError())
    }
}

