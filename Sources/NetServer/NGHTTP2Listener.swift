import GRPCCore
import HummingbirdCore
import Logging
import NGHTTP2Transport
import NIOCore
import NIOPosix
import Synchronization

/// The listener of a role on the nghttp2 transport: one TCP port, each connection sniffed by ``ProtocolSniffer``;
/// gRPC connections get the nghttp2 connection handler of `transport`, HTTP/1 connections Hummingbird's channel.
/// Graceful shutdown closes the listening socket and asks every open connection to quiesce (REST connections
/// finish their request; gRPC connections are drained by the transport's GOAWAY).
final class NGHTTP2Listener<HTTP1: ServerChildChannel>: Sendable {
    private let transport: NGHTTP2ServerTransport
    private let http1: HTTP1
    private let http1Connections: AsyncStream<HTTP1.Value>.Continuation
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var server: (any Channel)?
        var children: [ObjectIdentifier: any Channel] = [:]
        var quiescing = false
    }

    init(transport: NGHTTP2ServerTransport, http1: HTTP1, http1Connections: AsyncStream<HTTP1.Value>.Continuation, logger: Logger) {
        self.transport = transport
        self.http1 = http1
        self.http1Connections = http1Connections
        self.logger = logger
    }

    func bind(host: String, port: Int, group: any EventLoopGroup) async throws -> NIOCore.SocketAddress? {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.initialize(channel) }
            }
            .bind(host: host, port: port)
            .get()
        let closeNow = state.withLock { state -> Bool in
            state.server = server
            return state.quiescing
        }
        if closeNow { server.close(promise: nil) }
        return server.localAddress
    }

    private func initialize(_ channel: any Channel) throws {
        let key = ObjectIdentifier(channel)
        let admitted = state.withLock { state -> Bool in
            guard !state.quiescing else { return false }
            state.children[key] = channel
            return true
        }
        guard admitted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.children.removeValue(forKey: key) } }
        let transport = self.transport
        let http1 = self.http1
        let connections = self.http1Connections
        let logger = self.logger
        let sniffer = ProtocolSniffer { kind, context in
            switch kind {
            case .http2:
                try transport.configure(channel: context.channel)
            case .http1:
                let configured = http1.setup(channel: context.channel, logger: logger)
                configured.whenSuccess { connections.yield($0) }
            }
        }
        try channel.pipeline.syncOperations.addHandler(sniffer)
    }

    /// Stops accepting and asks open connections to finish.
    func quiesce() {
        let (server, children) = state.withLock { state -> ((any Channel)?, [any Channel]) in
            state.quiescing = true
            return (state.server, Array(state.children.values))
        }
        server?.close(promise: nil)
        for child in children {
            child.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Closes every connection now (the drain time is over).
    func closeAll() {
        let (server, children) = state.withLock { state -> ((any Channel)?, [any Channel]) in
            state.quiescing = true
            return (state.server, Array(state.children.values))
        }
        server?.close(promise: nil)
        for child in children { child.close(promise: nil) }
    }
}
