import GRPCCore
import GRPCNIOTransportHTTP2
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The listener of a role: one TCP port that serves gRPC (HTTP/2 with prior knowledge) and REST
/// (HTTP/1.1) side by side, split per connection by ``ProtocolSniffer``.
///
/// grpc-swift's custom transport asks this factory for its listening channel. The real socket is
/// bound here; gRPC connections are configured with grpc-swift's own connection pipeline and
/// handed to the transport through a small pipe channel that carries no bytes (the transport
/// only reads configured connections from it), while HTTP/1 connections go to Hummingbird's
/// HTTP/1 channel and are served by ``RoleServer``.
struct SharedListenerFactory<HTTP1: ServerChildChannel>: HTTP2ServerTransport.ListenerFactory {
    let host: String
    let port: Int
    let eventLoopGroup: any EventLoopGroup
    let http1: HTTP1
    let http1Connections: AsyncStream<HTTP1.Value>.Continuation
    let bound: BoundAddress
    let logger: Logger

    func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let carrier = try await makeCarrier()
        let http1 = self.http1
        let connections = self.http1Connections
        let logger = self.logger
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 1024)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .serverChannelInitializer { channel in
                    // Tracks every accepted connection, so graceful shutdown reaches REST and gRPC alike.
                    listenerConfigurator.configure(channel: channel)
                }
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sniffer = ProtocolSniffer { kind, context in
                            switch kind {
                            case .http2:
                                let configured = connectionConfigurator.configure(channel: context.channel, tls: .none)
                                configured.whenSuccess { connection in
                                    carrier.eventLoop.execute {
                                        // The async channel hands reads over on read-complete.
                                        carrier.pipeline.fireChannelRead(connection)
                                        carrier.pipeline.fireChannelReadComplete()
                                    }
                                }
                            case .http1:
                                let configured = http1.setup(channel: context.channel, logger: logger)
                                configured.whenSuccess { connections.yield($0) }
                            }
                        }
                        try channel.pipeline.syncOperations.addHandler(sniffer)
                    }
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            try? await carrier.close()
            bound.fail(error)
            throw error
        }
        // When the listening socket closes (graceful shutdown), the transport's accept loop ends.
        server.closeFuture.whenComplete { _ in carrier.close(promise: nil) }
        if let address = server.localAddress {
            bound.succeed(address)
        }
        return try await carrier.eventLoop.submit {
            try NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never>(
                wrappingChannelSynchronously: carrier
            )
        }.get()
    }

    /// A channel on a real event loop whose pipeline only ever sees configured gRPC connections.
    private func makeCarrier() async throws -> any Channel {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw RPCError(code: .internalError, message: "cannot create the gRPC connection carrier pipe")
        }
        return try await NIOPipeBootstrap(group: eventLoopGroup)
            .takingOwnershipOfDescriptors(input: fds[0], output: fds[1])
            .get()
    }
}

/// The address a listener bound, completed exactly once (bound, or failed/stopped).
final class BoundAddress: Sendable {
    private let promise: EventLoopPromise<NIOCore.SocketAddress>
    private let done = Mutex(false)

    init(eventLoop: any EventLoop) {
        promise = eventLoop.makePromise(of: NIOCore.SocketAddress.self)
    }

    var future: EventLoopFuture<NIOCore.SocketAddress> { promise.futureResult }

    func succeed(_ address: NIOCore.SocketAddress) {
        if done.withLock({ let first = !$0; $0 = true; return first }) { promise.succeed(address) }
    }

    func fail(_ error: any Error) {
        if done.withLock({ let first = !$0; $0 = true; return first }) { promise.fail(error) }
    }
}
