import GRPCCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A grpc-swift 2 client transport over HTTP/2 (h2c) on libnghttp2: one nghttp2 session per connection, no
/// channel or pipeline per stream, and each RPC's task running on its connection's event loop.
///
/// One connection at a time carries new streams. It is opened when the first stream needs it, replaced when the
/// server sends GOAWAY or the connection is lost or idle (streams already on it run to completion), and retried
/// with backoff when an attempt fails. While no connection is ready, a stream whose call options ask for
/// `waitForReady` waits; other streams wait for the attempt in progress and fail with UNAVAILABLE if it fails,
/// as grpc-swift's `HTTP2ClientTransport` does.
public final class NGHTTP2ClientTransport: ClientTransport, Sendable {
    public typealias Bytes = H2Bytes

    public let retryThrottle: RetryThrottle?

    private let host: String
    private let port: Int
    private let config: Config
    private let methodConfigs: MethodConfigTable
    private let group: any EventLoopGroup
    private let logger: Logger
    private let settings: ClientConnection.Settings
    private let state = Mutex(State())

    public init(
        host: String,
        port: Int,
        config: Config = .defaults,
        serviceConfig: ServiceConfig = ServiceConfig(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "oaas.nghttp2.client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.host = host
        self.port = port
        self.config = config
        methodConfigs = MethodConfigTable(serviceConfig)
        retryThrottle = serviceConfig.retryThrottling.map { RetryThrottle(policy: $0) }
        group = eventLoopGroup
        self.logger = logger
        settings = ClientConnection.Settings(
            authority: config.authority ?? "\(host):\(port)",
            userAgent: "grpc-swift-nghttp2/2",
            initialStreamWindowBytes: config.initialStreamWindowBytes,
            connectionWindowBytes: config.connectionWindowBytes,
            keepalive: config.keepalive,
            idleTimeout: config.idleTimeout)
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        methodConfigs[descriptor]
    }

    // MARK: - Streams

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor,
        options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        var options = options
        if let methodConfig = methodConfigs[descriptor] {
            if options.waitForReady == nil { options.waitForReady = methodConfig.waitForReady }
            if options.maxResponseMessageBytes == nil {
                options.maxResponseMessageBytes = methodConfig.maxResponseMessageBytes
            }
        }
        let ready = try await readyConnection(waitForReady: options.waitForReady ?? false)
        let stream = ClientStream(
            connection: ready.connection,
            descriptor: descriptor,
            maxResponseBytes: options.maxResponseMessageBytes ?? config.maxMessageBytes,
            maxPendingOutbound: config.maxPendingOutboundBytes)
        let rpcStream = RPCStream(
            descriptor: descriptor,
            inbound: RPCAsyncSequence(wrapping: ClientStream.Inbound(stream: stream)),
            outbound: RPCWriter.Closable(wrapping: ClientStream.Outbound(stream: stream)))
        let context = ClientContext(descriptor: descriptor, remotePeer: ready.remotePeer, localPeer: ready.localPeer)
        if config.runsStreamsOnEventLoop {
            return try await withTaskExecutorPreference(ready.connection.executor) {
                try await Self.run(closure, stream: stream, rpcStream: rpcStream, context: context)
            }
        }
        return try await Self.run(closure, stream: stream, rpcStream: rpcStream, context: context)
    }

    private static func run<T>(
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T,
        stream: ClientStream,
        rpcStream: RPCStream<Inbound, Outbound>,
        context: ClientContext
    ) async throws -> T {
        do {
            let value = try await closure(rpcStream, context)
            stream.closeFromCaller()
            return value
        } catch {
            stream.closeFromCaller()
            throw error
        }
    }

    // MARK: - Connection management

    struct ReadyConnection: Sendable {
        let connection: ClientConnection
        let remotePeer: String
        let localPeer: String
    }

    private struct Waiter {
        let continuation: CheckedContinuation<ReadyConnection, any Error>
        let waitForReady: Bool
    }

    private struct State {
        enum Phase {
            /// No connection and no attempt: the next stream starts one.
            case idle
            case connecting
            case ready(ReadyConnection)
            /// The last attempt failed; streams without waitForReady fail fast until the backoff ends.
            case backingOff(RPCError)
        }

        var phase = Phase.idle
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
        var connectStarted = false
        var shuttingDown = false
        /// The connect loop, when it waits for demand, for the end of a backoff or for shutdown.
        var parked: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        /// Every connection that may still be open, to shut down or close them.
        var connections: [ObjectIdentifier: ClientConnection] = [:]

        mutating func takeWaiters(where predicate: (Waiter) -> Bool = { _ in true }) -> [Waiter] {
            var taken: [Waiter] = []
            for (id, waiter) in waiters where predicate(waiter) {
                taken.append(waiter)
                waiters[id] = nil
            }
            return taken
        }
    }

    private var shuttingDownError: RPCError {
        RPCError(code: .failedPrecondition, message: "the transport is shutting down")
    }

    private func readyConnection(waitForReady: Bool) async throws -> ReadyConnection {
        enum Outcome {
            case use(ReadyConnection)
            case fail(any Error)
            case wait
        }
        // Fast path: a ready connection, no suspension.
        let fast = state.withLock { state -> Outcome in
            if state.shuttingDown { return .fail(shuttingDownError) }
            switch state.phase {
            case .ready(let ready): return .use(ready)
            case .backingOff(let error) where !waitForReady: return .fail(error)
            default: return .wait
            }
        }
        switch fast {
        case .use(let ready): return ready
        case .fail(let error): throw error
        case .wait: break
        }

        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ReadyConnection, any Error>) in
                var wake: CheckedContinuation<Void, Never>?
                let outcome = state.withLock { state -> Outcome in
                    if Task.isCancelled { return .fail(CancellationError()) }
                    if state.shuttingDown { return .fail(shuttingDownError) }
                    switch state.phase {
                    case .ready(let ready):
                        return .use(ready)
                    case .backingOff(let error) where !waitForReady:
                        return .fail(error)
                    case .idle:
                        state.phase = .connecting
                        wake = state.parked?.continuation
                        state.parked = nil
                    case .connecting, .backingOff:
                        break
                    }
                    state.waiters[id] = Waiter(continuation: continuation, waitForReady: waitForReady)
                    return .wait
                }
                switch outcome {
                case .use(let ready): continuation.resume(returning: ready)
                case .fail(let error): continuation.resume(throwing: error)
                case .wait: wake?.resume()
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    public func connect() async throws {
        let first = state.withLock { state in
            defer { state.connectStarted = true }
            return !state.connectStarted
        }
        guard first else {
            throw RPCError(code: .failedPrecondition, message: "connect() may only be called once")
        }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                await self.maintainConnections(group: &group)
            }
        } onCancel: {
            self.closeEverything()
        }
    }

    public func beginGracefulShutdown() {
        shutDown { $0.beginGracefulShutdown() }
    }

    /// The task running `connect()` was cancelled: close every connection now, failing open streams.
    private func closeEverything() {
        shutDown { $0.close() }
    }

    /// Stops taking streams, fails the ones waiting for a connection, and applies `stop` to every connection on its loop.
    private func shutDown(_ stop: @escaping @Sendable (ClientConnection) -> Void) {
        let (waiters, connections, parked) = state.withLock { state in
            state.shuttingDown = true
            let parked = state.parked?.continuation
            state.parked = nil
            return (state.takeWaiters(), Array(state.connections.values), parked)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: shuttingDownError) }
        for connection in connections {
            connection.eventLoop.execute { stop(connection) }
        }
        parked?.resume()
    }

    private func maintainConnections(group: inout DiscardingTaskGroup) async {
        var failedAttempts = 0
        while true {
            // Wait until a stream asks for a connection (or shutdown).
            await park(timeout: nil) { state in
                if case .connecting = state.phase { return true }
                return state.shuttingDown
            }
            if state.withLock({ $0.shuttingDown }) { break }

            switch await establish() {
            case .success(let ready):
                failedAttempts = 0
                let connection = ready.connection
                group.addTask {
                    try? await connection.closed.futureResult.get()
                    self.state.withLock { _ = $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
                }
                let waiters = state.withLock { state -> [Waiter]? in
                    if state.shuttingDown { return nil }
                    state.phase = .ready(ready)
                    return state.takeWaiters()
                }
                guard let waiters else {
                    connection.eventLoop.execute { connection.beginGracefulShutdown() }
                    continue
                }
                for waiter in waiters { waiter.continuation.resume(returning: ready) }
                // Serve streams until the connection stops taking new ones; a new one is opened on demand.
                try? await connection.retired.futureResult.get()
                state.withLock { state in
                    if case .ready(let current) = state.phase, current.connection === connection {
                        state.phase = state.waiters.isEmpty ? .idle : .connecting
                    }
                }

            case .failure(let error):
                failedAttempts += 1
                let rpcError = RPCError(
                    code: .unavailable, message: "could not connect to \(host):\(port)", cause: error)
                logger.debug("connection attempt failed", metadata: ["error": "\(error)"])
                let failFast = state.withLock { state -> [Waiter] in
                    state.phase = .backingOff(rpcError)
                    return state.takeWaiters { !$0.waitForReady }
                }
                for waiter in failFast { waiter.continuation.resume(throwing: rpcError) }
                await park(timeout: config.backoff.delay(attempt: failedAttempts)) { $0.shuttingDown }
                state.withLock { state in
                    if case .backingOff = state.phase {
                        state.phase = state.waiters.isEmpty ? .idle : .connecting
                    }
                }
            }
        }
        let waiters = state.withLock { $0.takeWaiters() }
        for waiter in waiters { waiter.continuation.resume(throwing: shuttingDownError) }
    }

    /// Suspends the connect loop until `ready` holds, something wakes it (demand, shutdown), or `timeout` passes.
    private func park(timeout: Duration?, until ready: @escaping (inout State) -> Bool) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if ready(&state) { return true }
                state.parked = (id, continuation)
                return false
            }
            if resumeNow {
                continuation.resume()
                return
            }
            if let timeout {
                group.next().scheduleTask(in: ClientConnection.timeAmount(timeout)) {
                    let parked = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                        guard let parked = state.parked, parked.id == id else { return nil }
                        state.parked = nil
                        return parked.continuation
                    }
                    parked?.resume()
                }
            }
        }
    }

    /// Opens a TCP connection and waits for the server's SETTINGS.
    private func establish() async -> Result<ReadyConnection, any Error> {
        let eventLoop = group.next()
        let connection = ClientConnection(eventLoop: eventLoop, settings: settings, logger: logger)
        connection.onRetire = { [weak connection] in
            guard let connection else { return }
            self.state.withLock { state in
                if case .ready(let current) = state.phase, current.connection === connection {
                    state.phase = state.waiters.isEmpty ? .idle : .connecting
                }
            }
        }
        state.withLock { $0.connections[ObjectIdentifier(connection)] = connection }
        let timeout = ClientConnection.timeAmount(config.connectTimeout)
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(connection)
                    }
                }
                .connect(host: host, port: port)
                .get()
            let timer = eventLoop.scheduleTask(in: timeout) {
                connection.ready.fail(RPCError(code: .unavailable, message: "the server sent no HTTP/2 SETTINGS in time"))
                channel.close(promise: nil)
            }
            defer { timer.cancel() }
            try await connection.ready.futureResult.get()
            return .success(ReadyConnection(
                connection: connection,
                remotePeer: GRPCPeer.describe(channel.remoteAddress),
                localPeer: GRPCPeer.describe(channel.localAddress)))
        } catch {
            state.withLock { _ = $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
            return .failure(error)
        }
    }
}
