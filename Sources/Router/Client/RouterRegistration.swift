import GRPCCore
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
    typealias Client = GRPCClient<HTTP2ClientTransport.Posix>

    private let client: Client
    private let backoff: Backoff
    private let deregisterTimeout: Duration
    private let logger: Logger
    private let state: Mutex<State>
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

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
            client = try endpoint.makeClient()
        } catch {
            throw ConfigurationError("OPRC_ROUTER_URL: cannot set up a connection to \(routerURL): \(error)")
        }
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

    public func run() async throws {
        let router = Oaas_Router_RouterService.Client(wrapping: client)
        await withDiscardingTaskGroup { group in
            group.addTask {
                do {
                    try await self.client.runConnections()
                } catch {
                    self.logger.debug("router client stopped", metadata: ["error": "\(error)"])
                }
            }
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { inner in
                    inner.addTask { await self.tick() }
                    self.wake.yield()
                    for await _ in self.wakeups { await self.step(router) }
                    inner.cancelAll()
                }
            }
            // Only on a graceful shutdown: once cancelled, the connections stop and a call would never complete.
            if !Task.isCancelled { await deregister(router) }
            client.beginGracefulShutdown()
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

    private func step(_ router: Oaas_Router_RouterService.Client<HTTP2ClientTransport.Posix>) async {
        let (registration, leaseID, sendShards) = state.withLock { state in
            defer { state.shardsChanged = false }
            return (state.registration, state.leaseID, state.shardsChanged)
        }
        guard let leaseID else {
            await register(router, registration)
            return
        }
        var heartbeat = Oaas_Router_HeartbeatRequest()
        heartbeat.leaseID = leaseID
        if sendShards {
            heartbeat.updateShards = true
            heartbeat.shards = registration.shards
        }
        do {
            let response = try await router.heartbeat(heartbeat, options: callOptions)
            state.withLock { state in
                state.failures = 0
                if response.leaseTtlMs > 0 { state.leaseTTL = .milliseconds(response.leaseTtlMs) }
            }
        } catch let error as RPCError where error.code == .notFound {
            logger.info("router forgot the lease; registering again", metadata: ["lease_id": "\(leaseID)"])
            state.withLock { $0.leaseID = nil }
            await register(router, registration)
        } catch {
            failed("heartbeat", error, shardsPending: sendShards)
        }
    }

    private func register(_ router: Oaas_Router_RouterService.Client<HTTP2ClientTransport.Posix>,
                          _ registration: Oaas_Router_RegisterRequest) async {
        do {
            let response = try await router.register(registration, options: callOptions)
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

    private func deregister(_ router: Oaas_Router_RouterService.Client<HTTP2ClientTransport.Posix>) async {
        guard let leaseID = state.withLock({ state in defer { state.leaseID = nil }; return state.leaseID }) else { return }
        var request = Oaas_Router_DeregisterRequest()
        request.leaseID = leaseID
        var options = CallOptions.defaults
        options.timeout = deregisterTimeout
        do {
            _ = try await router.deregister(request, options: options)
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
