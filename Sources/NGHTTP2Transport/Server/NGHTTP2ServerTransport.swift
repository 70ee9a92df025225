import GRPCCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A grpc-swift 2 `ServerTransport` on libnghttp2: one nghttp2 session per connection, no channel or pipeline per
/// HTTP/2 stream, RPC handlers run as tasks that prefer their connection's event loop.
public final class NGHTTP2ServerTransport: ServerTransport, Sendable {
    public typealias Bytes = H2Bytes

    public struct Config: Sendable {
        /// Largest request message accepted; bigger ones get RESOURCE_EXHAUSTED and the stream is reset.
        public var maxMessageBytes: Int = 4 * 1024 * 1024
        /// SETTINGS_MAX_CONCURRENT_STREAMS, enforced by nghttp2.
        public var maxConcurrentStreams: Int = 256
        /// SETTINGS_INITIAL_WINDOW_SIZE; also how many bytes of complete messages may wait for a slow handler.
        public var initialStreamWindowBytes: Int = 1024 * 1024
        /// The connection's receive window.
        public var connectionWindowBytes: Int = 16 * 1024 * 1024
        /// SETTINGS_MAX_HEADER_LIST_SIZE; a request over it is reset.
        public var maxHeaderListBytes: Int = 16 * 1024
        /// Response bytes a stream may queue beyond what the peer's window lets out before `write` suspends.
        public var maxPendingOutboundBytes: Int = 1024 * 1024
        public var keepalive: Keepalive? = nil
        /// A connection without streams for this long gets GOAWAY and is closed.
        public var idleTimeout: Duration? = nil
        /// Run RPC handlers with the connection's event loop as task executor preference (no thread hops on the
        /// data path). Turn off for handlers that block their thread.
        public var runHandlersOnEventLoop: Bool = true

        public struct Keepalive: Sendable {
            /// Ping a connection that has been silent for this long.
            public var pingInterval: Duration?
            /// Close the connection when a ping is not answered within this time.
            public var pingTimeout: Duration

            public init(pingInterval: Duration?, pingTimeout: Duration = .seconds(20)) {
                self.pingInterval = pingInterval
                self.pingTimeout = pingTimeout
            }
        }

        public init() {}

        public static var defaults: Config { Config() }
    }

    public enum Listener: Sendable {
        case bind(host: String, port: Int)
        /// Connections are accepted elsewhere and handed over with `configure(channel:)`.
        case external
    }

    public let listener: Listener
    public let config: Config
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state = Mutex(State())

    private struct Connection {
        var channel: any Channel
        var handler: NIOLoopBound<NGHTTP2ServerConnectionHandler>
    }

    private struct State {
        var streamHandler: NGHTTP2ServerConnectionHandler.StreamHandler?
        var serverChannel: (any Channel)?
        var serverClosed = false
        var address: Result<SocketAddress, any Error>?
        var addressWaiters: [CheckedContinuation<SocketAddress, any Error>] = []
        var connections: [ObjectIdentifier: Connection] = [:]
        var shuttingDown = false
        var listenWaiter: CheckedContinuation<Void, Never>?
        var listeningWaiters: [CheckedContinuation<Void, Never>] = []
        var finished = false

        /// Listen is over once shutdown began, the listening socket is closed and every connection has finished.
        mutating func takeWaiterIfDone() -> CheckedContinuation<Void, Never>? {
            guard shuttingDown, serverClosed, connections.isEmpty else { return nil }
            finished = true
            defer { listenWaiter = nil }
            return listenWaiter
        }
    }

    public init(
        listener: Listener, config: Config = .defaults,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "oaas.nghttp2.server", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.listener = listener
        self.config = config
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// The bound address once `listen` has bound (port 0 resolves to the real port).
    public var listeningAddress: SocketAddress {
        get async throws {
            guard case .bind = listener else {
                throw RPCError(code: .failedPrecondition, message: "An external listener has no address of its own.")
            }
            return try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<SocketAddress, any Error>? in
                    if let address = state.address { return address }
                    state.addressWaiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }

    /// Installs the connection handler on an accepted channel. Call on the channel's event loop, before the
    /// connection's first bytes are delivered. Throws when the transport is not listening or is shutting down.
    public func configure(channel: any Channel) throws {
        guard channel.eventLoop.inEventLoop else {
            throw RPCError(code: .failedPrecondition, message: "configure(channel:) must run on the channel's event loop.")
        }
        let key = ObjectIdentifier(channel)
        guard let streamHandler = state.withLock({ $0.shuttingDown ? nil : $0.streamHandler }) else {
            throw RPCError(code: .unavailable, message: "The server transport is not accepting connections.")
        }
        let handler = NGHTTP2ServerConnectionHandler(
            loop: channel.eventLoop, config: config, streamHandler: streamHandler, logger: logger,
            onFinished: { [weak self] in self?.connectionFinished(key) })
        let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        let accepted = state.withLock { state -> Bool in
            guard !state.shuttingDown else { return false }
            state.connections[key] = Connection(channel: channel, handler: bound)
            return true
        }
        guard accepted else {
            throw RPCError(code: .unavailable, message: "The server transport is shutting down.")
        }
        do {
            try channel.pipeline.syncOperations.addHandler(handler)
        } catch {
            _ = state.withLock { $0.connections.removeValue(forKey: key) }
            throw error
        }
    }

    public func listen(streamHandler: @escaping @Sendable (
        _ stream: RPCStream<Inbound, Outbound>, _ context: ServerContext
    ) async -> Void) async throws {
        try state.withLock { state in
            guard state.streamHandler == nil else {
                throw RPCError(code: .failedPrecondition, message: "listen(streamHandler:) may only be called once.")
            }
            state.streamHandler = streamHandler
        }
        for waiter in state.withLock({ state in
            defer { state.listeningWaiters = [] }
            return state.listeningWaiters
        }) { waiter.resume() }

        switch listener {
        case .bind(let host, let port):
            let bootstrap = ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [weak self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard let self else { throw RPCError(code: .unavailable, message: "The transport is gone.") }
                        try self.configure(channel: channel)
                    }
                }
            let channel: any Channel
            do {
                channel = try await bootstrap.bind(host: host, port: port).get()
            } catch {
                let waiters = state.withLock { state in
                    state.address = .failure(error)
                    state.shuttingDown = true
                    state.serverClosed = true
                    defer { state.addressWaiters = [] }
                    return state.addressWaiters
                }
                for waiter in waiters { waiter.resume(throwing: error) }
                throw error
            }
            let address = channel.localAddress
            let (waiters, closeNow) = state.withLock { state in
                state.serverChannel = channel
                let result: Result<SocketAddress, any Error> = address.map { .success($0) }
                    ?? .failure(RPCError(code: .internalError, message: "The listening socket has no address."))
                state.address = result
                defer { state.addressWaiters = [] }
                return (state.addressWaiters.map { ($0, result) }, state.shuttingDown)
            }
            for (waiter, result) in waiters { waiter.resume(with: result) }
            channel.closeFuture.whenComplete { [weak self] _ in self?.serverChannelClosed() }
            if closeNow { channel.close(promise: nil) }
        case .external:
            state.withLock { $0.serverClosed = true }
        }

        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state -> Bool in
                    if state.finished || state.takeWaiterIfDone() != nil || state.finished { return true }
                    state.listenWaiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            self.closeEverything()
        }
    }

    /// Returns once `listen` has started, i.e. `configure(channel:)` accepts connections (an `.external` listener
    /// binds its socket after this, so its first client is never turned away), or once shutdown has begun.
    public func waitUntilListening() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.streamHandler != nil || state.shuttingDown { return true }
                state.listeningWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Stops accepting, sends GOAWAY on every connection and lets in-flight RPCs finish; `listen` then returns.
    public func beginGracefulShutdown() {
        let (server, connections, waiter, listening) = state.withLock { state in
            state.shuttingDown = true
            defer { state.listeningWaiters = [] }
            return (state.serverChannel, Array(state.connections.values), state.takeWaiterIfDone(), state.listeningWaiters)
        }
        for waiter in listening { waiter.resume() }
        server?.close(promise: nil)
        for connection in connections {
            let handler = connection.handler
            connection.channel.eventLoop.execute { handler.value.beginGracefulShutdown() }
        }
        waiter?.resume()
    }

    /// Cancellation of `listen`: close every connection now (their RPCs are cancelled).
    private func closeEverything() {
        let (server, connections) = state.withLock { state in
            state.shuttingDown = true
            return (state.serverChannel, Array(state.connections.values))
        }
        server?.close(promise: nil)
        for connection in connections { connection.channel.close(promise: nil) }
        let waiter = state.withLock { $0.takeWaiterIfDone() }
        waiter?.resume()
    }

    private func serverChannelClosed() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.serverClosed = true
            state.shuttingDown = true
            return state.takeWaiterIfDone()
        }
        waiter?.resume()
    }

    private func connectionFinished(_ key: ObjectIdentifier) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.connections.removeValue(forKey: key)
            return state.takeWaiterIfDone()
        }
        waiter?.resume()
    }
}
