import GRPCCore
import GRPCTransports
import GRPCNIOTransportHTTP2
import Logging
import OaaSCore
import OaaSProto
import ServiceLifecycle
import Synchronization

/// Registers this process with a router and keeps the lease alive (spec §7.1): Register, then Heartbeat every
/// `lease_ttl_ms / 3`; a NOT_FOUND heartbeat (the router restarted or the lease expired) registers again; graceful
/// shutdown deregisters so the routes go at once. Shard changes (readiness, leadership) go out with the next
/// heartbeat, which `updateShards` brings forward.
public final class RouterRegistration: Service, Sendable {
    package typealias Client = GRPCClient<DataPathClientTransport>

    private let calls: Calls
    private let backoff: Backoff
    private let deregisterTimeout: Duration
    private let logger: Logger
    private let state: Mutex<State>
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// The router RPCs this service makes, over whatever transport; `run`/`stop` manage a connection it owns.
    private struct Calls: Sendable {
        let register: @Sendable (Oaas_Router_RegisterRequest, CallOptions) async throws -> Oaas_Router_RegisterResponse
        let heartbeat: @Sendable (Oaas_Router_HeartbeatRequest, CallOptions) async throws -> Oaas_Router_HeartbeatResponse
        let deregister: @Sendable (Oaas_Router_DeregisterRequest, CallOptions) async throws -> Oaas_Router_Ack
        let run: (@Sendable () async throws -> Void)?
        let stop: (@Sendable () -> Void)?

        init<Transport: ClientTransport>(client: GRPCClient<Transport>, owned: Bool) {
            let router = Oaas_Router_RouterService.Client(wrapping: client)
            register = { try await router.register($0, options: $1) }
            heartbeat = { try await router.heartbeat($0, options: $1) }
            deregister = { try await router.deregister($0, options: $1) }
            if owned {
                run = { try await client.runConnections() }
                stop = { client.beginGracefulShutdown() }
            } else {
                run = nil
                stop = nil
            }
        }
    }

    private struct State {
        var registration: Oaas_Router_RegisterRequest
        var leaseID: String?
        var leaseTTL: Duration?
        var shardsChanged = false
        var failures = 0
    }

    /// - Parameters:
    ///   - routerURL: `http://host:port` of the router (`OPRC_ROUTER_URL`).
    ///   - node: what to announce: `instance_id`, role, address, env, shards, collections, capabilities.
    /// - Throws: `ConfigurationError` when the URL is unusable.
    public init(routerURL: String, node: Oaas_Router_RegisterRequest, backoff: Backoff = Backoff(),
                deregisterTimeout: Duration = .seconds(2), logger: Logger) throws(ConfigurationError) {
        guard let endpoint = GRPCEndpoint(url: routerURL) else {
            throw ConfigurationError("OPRC_ROUTER_URL: '\(routerURL)' is not an http://host:port URL")
        }
        do {
            calls = Calls(client: try endpoint.makeClient(), owned: true)
        } catch {
            throw ConfigurationError("OPRC_ROUTER_URL: cannot set up a connection to \(routerURL): \(error)")
        }
        self.backoff = backoff
        self.deregisterTimeout = deregisterTimeout
        self.logger = logger
        state = Mutex(State(registration: node))
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Registers through an existing client whose connections the caller runs (e.g. an in-process router).
    public init<Transport: ClientTransport>(client: GRPCClient<Transport>, node: Oaas_Router_RegisterRequest,
                                            backoff: Backoff = Backoff(), deregisterTimeout: Duration = .seconds(2), logger: Logger) {
        calls = Calls(client: client, owned: false)
        self.backoff = backoff
        self.deregisterTimeout = deregisterTimeout
        self.logger = logger
        state = Mutex(State(registration: node))
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The current lease, nil while not registered (readiness: "registered if a router is configured").
    public var leaseID: String? { state.withLock { $0.leaseID } }
    public var isRegistered: Bool { leaseID != nil }

    /// Replaces the announced shard list and sends it now.
    public func updateShards(_ shards: [Oaas_Router_HostedShard]) {
        state.withLock { state in
            state.registration.shards = shards
            state.shardsChanged = true
        }
        wake.yield()
    }

    /// Replaces the whole announcement (collections changed) and registers again under the same `instance_id`,
    /// which replaces the router's entry.
    public func replaceRegistration(_ node: Oaas_Router_RegisterRequest) {
        state.withLock { state in
            state.registration = node
            state.leaseID = nil
            state.shardsChanged = false
        }
        wake.yield()
    }

    /// What is announced now.
    public var registration: Oaas_Router_RegisterRequest { state.withLock { $0.registration } }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            if let runConnections = calls.run {
                group.addTask {
                    do {
                        try await runConnections()
                    } catch {
                        self.logger.debug("router client stopped", metadata: ["error": "\(error)"])
                    }
                }
            }
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { inner in
                    inner.addTask { await self.tick() }
                    self.wake.yield()
                    for await _ in self.wakeups { await self.step() }
                    inner.cancelAll()
                }
            }
            // Only on a graceful shutdown: once cancelled, the connections stop and a call would never complete.
            if !Task.isCancelled { await deregister() }
            calls.stop?()
        }
    }

    /// Wakes the loop every ttl/3 while registered, or after the backoff delay while not.
    private func tick() async {
        while !Task.isCancelled {
            let delay: Duration = state.withLock { state in
                // A floor keeps a router that answers a tiny TTL from turning this into a busy loop.
                if let ttl = state.leaseTTL, state.leaseID != nil, state.failures == 0 { return max(ttl / 3, .milliseconds(20)) }
                return backoff.delay(afterFailures: max(1, state.failures))
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            wake.yield()
        }
    }

    private func step() async {
        let (registration, leaseID, sendShards) = state.withLock { state in
            defer { state.shardsChanged = false }
            return (state.registration, state.leaseID, state.shardsChanged)
        }
        guard let leaseID else {
            await register(registration)
            return
        }
        var heartbeat = Oaas_Router_HeartbeatRequest()
        heartbeat.leaseID = leaseID
        if sendShards {
            heartbeat.updateShards = true
            heartbeat.shards = registration.shards
        }
        do {
            let response = try await calls.heartbeat(heartbeat, callOptions)
            state.withLock { state in
                state.failures = 0
                if response.leaseTtlMs > 0 { state.leaseTTL = .milliseconds(response.leaseTtlMs) }
            }
        } catch let error as RPCError where error.code == .notFound {
            logger.info("router forgot the lease; registering again", metadata: ["lease_id": "\(leaseID)"])
            state.withLock { $0.leaseID = nil }
            await register(registration)
        } catch {
            failed("heartbeat", error, shardsPending: sendShards)
        }
    }

    private func register(_ registration: Oaas_Router_RegisterRequest) async {
        do {
            let response = try await calls.register(registration, callOptions)
            state.withLock { state in
                state.leaseID = response.leaseID
                state.leaseTTL = .milliseconds(max(3, response.leaseTtlMs))
                state.failures = 0
            }
            logger.info("registered with the router", metadata: ["lease_id": "\(response.leaseID)", "ttl_ms": "\(response.leaseTtlMs)"])
        } catch {
            failed("register", error, shardsPending: false)
        }
    }

    private func failed(_ what: String, _ error: any Error, shardsPending: Bool) {
        let failures = state.withLock { state in
            state.failures += 1
            // A shard update that did not get through must go with the next attempt.
            if shardsPending { state.shardsChanged = true }
            return state.failures
        }
        if failures == 1 {
            logger.warning("router \(what) failed; retrying", metadata: ["error": "\(error)"])
        }
    }

    private func deregister() async {
        guard let leaseID = state.withLock({ state in defer { state.leaseID = nil }; return state.leaseID }) else { return }
        var request = Oaas_Router_DeregisterRequest()
        request.leaseID = leaseID
        var options = CallOptions.defaults
        options.timeout = deregisterTimeout
        do {
            _ = try await calls.deregister(request, options)
            logger.info("deregistered from the router")
        } catch {
            logger.warning("router deregister failed; the lease will expire", metadata: ["error": "\(error)"])
        }
    }

    /// Every call is bounded: a hung router must not stall the heartbeat loop past the lease.
    private var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = state.withLock { $0.leaseTTL.map { $0 / 3 } } ?? .seconds(5)
        return options
    }
}
