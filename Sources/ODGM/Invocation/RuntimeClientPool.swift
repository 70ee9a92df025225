import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import Synchronization

/// gRPC clients of the function runtimes, one per (runtime, pool settings), created on first use
/// (data-plane spec §5.2 step 3; how the pool options apply: ``RuntimePoolSettings``).
///
/// The pool is a `Service`: `run()` owns every client's `runConnections()` task, and graceful
/// shutdown lets calls in flight finish before the clients close. The state sits behind a
/// `Mutex` rather than in an actor so that a lease can be returned synchronously (in a `defer`).
public final class RuntimeClientPool: Service, Sendable {
    public typealias Client = GRPCClient<HTTP2ClientTransport.Posix>

    /// Why the pool gave no client; the caller answers SYSTEM_ERROR with the text.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    private struct Key: Hashable {
        let target: GRPCRuntimeTarget
        let settings: RuntimePoolSettings
    }

    private final class Pooled: Sendable {
        let client: Client
        let created: ContinuousClock.Instant

        init(client: Client, created: ContinuousClock.Instant) {
            self.client = client
            self.created = created
        }

        var id: ObjectIdentifier { ObjectIdentifier(self) }
    }

    private struct State {
        var current: [Key: Pooled] = [:]
        var inFlight: [ObjectIdentifier: Int] = [:]
        /// Replaced clients that still carry calls; shut down when the last one ends.
        var retiring: [ObjectIdentifier: Pooled] = [:]
        var created = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let starts: AsyncStream<Client>
    private let startsContinuation: AsyncStream<Client>.Continuation
    private let logger: Logger

    public init(logger: Logger) {
        (starts, startsContinuation) = AsyncStream.makeStream()
        self.logger = logger
    }

    /// Runs `body` with the client of `target`, counting the call against the pool's limit.
    public func withClient<Result: Sendable>(
        _ target: GRPCRuntimeTarget,
        settings: RuntimePoolSettings,
        _ body: (Client) async throws -> Result
    ) async throws -> Result {
        let pooled = try acquire(Key(target: target, settings: settings))
        defer { release(pooled) }
        return try await body(pooled.client)
    }

    /// Clients currently in use for new calls (retiring ones excluded).
    public var clientCount: Int {
        state.withLock { $0.current.count }
    }

    /// Clients created since the pool started (replacements included).
    public var createdCount: Int {
        state.withLock { $0.created }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await client in starts {
                    group.addTask { [logger] in
                        do {
                            try await client.runConnections()
                        } catch {
                            logger.warning("function runtime client stopped", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.close()
        }
        close()
    }

    /// Refuses new calls and shuts every client down once its calls have finished.
    public func close() {
        let clients = state.withLock { state -> [Pooled] in
            guard !state.closed else { return [] }
            state.closed = true
            let all = Array(state.current.values) + Array(state.retiring.values)
            state.current.removeAll()
            state.retiring.removeAll()
            return all
        }
        startsContinuation.finish()
        for pooled in clients { pooled.client.beginGracefulShutdown() }
    }

    // MARK: Leases

    private func acquire(_ key: Key) throws(Failure) -> Pooled {
        let now = ContinuousClock.now
        var retired: Pooled?
        let result: Swift.Result<Pooled, Failure> = state.withLock { state in
            if state.closed { return .failure(Failure(description: "function runtime pool is shut down")) }
            var pooled = state.current[key]
            if let existing = pooled, now - existing.created >= key.settings.maxLifetime {
                state.current[key] = nil
                if state.inFlight[existing.id, default: 0] == 0 {
                    retired = existing
                } else {
                    state.retiring[existing.id] = existing
                }
                pooled = nil
            }
            let chosen: Pooled
            if let pooled {
                chosen = pooled
            } else {
                do {
                    chosen = Pooled(client: try Self.makeClient(key), created: now)
                } catch {
                    return .failure(Failure(description: "cannot create a client for \(key.target): \(error)"))
                }
                state.current[key] = chosen
                state.created += 1
                startsContinuation.yield(chosen.client)
            }
            let inFlight = state.inFlight[chosen.id, default: 0]
            guard inFlight < key.settings.maxInFlight else {
                return .failure(Failure(description: "runtime pool for \(key.target) exhausted: \(inFlight) calls in flight (offload_max_pool_size \(key.settings.maxInFlight / RuntimePoolSettings.callsPerConnection) × \(RuntimePoolSettings.callsPerConnection))"))
            }
            state.inFlight[chosen.id] = inFlight + 1
            return .success(chosen)
        }
        retired?.client.beginGracefulShutdown()
        return try result.get()
    }

    private func release(_ pooled: Pooled) {
        let finished = state.withLock { state -> Bool in
            let remaining = state.inFlight[pooled.id, default: 1] - 1
            if remaining > 0 {
                state.inFlight[pooled.id] = remaining
                return false
            }
            state.inFlight[pooled.id] = nil
            return state.retiring.removeValue(forKey: pooled.id) != nil
        }
        if finished { pooled.client.beginGracefulShutdown() }
    }

    /// h2c or TLS with the system trust roots; the idle timeout closes unused connections.
    private static func makeClient(_ key: Key) throws -> Client {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.connection.maxIdleTime = key.settings.maxIdle
        // A runtime that restarts is usable again within a second, not after gRPC's default two-minute backoff.
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: key.target.host, port: key.target.port),
            transportSecurity: key.target.tls ? .tls : .plaintext,
            config: config
        )
        return GRPCClient(transport: transport)
    }
}
