import Foundation
import Logging
import OaaSCore
import OaaSProto

/// The router's soft state for routes (spec §7.1): registrations and their leases, the peers' tables, and the
/// route table built from both. Every change that alters the table moves `revision` forward and wakes watchers.
actor RouteHub {
    let env: String
    let leaseTTL: Duration
    private let metrics: RouterMetrics
    private let logger: Logger
    private var registry = NodeRegistry()
    private var peers: [String: [Oaas_Router_CollectionRoute]] = [:]
    private(set) var snapshot: RouteSnapshot
    private var watchers: [UInt64: AsyncStream<Void>.Continuation] = [:]
    private var nextWatcherID: UInt64 = 0

    init(env: String, leaseTTL: Duration, metrics: RouterMetrics, logger: Logger) {
        self.env = env
        self.leaseTTL = leaseTTL
        self.metrics = metrics
        self.logger = logger
        // State is soft: seeding from the clock keeps revisions increasing across a router restart, so a watcher
        // that reconnects never sees the table go "back in time".
        let seed = UInt64(max(0, Date().timeIntervalSince1970 * 1000)) * 1000
        snapshot = .empty(revision: seed, env: env)
        metrics.revision(seed)
        metrics.nodes([:])
    }

    var revision: UInt64 { snapshot.revision }

    func register(_ request: Oaas_Router_RegisterRequest) throws(OaaSError) -> Oaas_Router_RegisterResponse {
        let entry = try registry.register(request, routerEnv: env, ttl: leaseTTL, now: .now)
        logger.info("node registered", metadata: [
            "instance_id": "\(entry.instanceID)", "role": "\(RouterMetrics.name(of: entry.role))",
            "address": "\(entry.address)", "shards": "\(entry.shards.count)",
        ])
        rebuild()
        var response = Oaas_Router_RegisterResponse()
        response.leaseID = entry.leaseID
        response.leaseTtlMs = ttlMilliseconds
        response.revision = snapshot.revision
        return response
    }

    func heartbeat(_ request: Oaas_Router_HeartbeatRequest) throws(OaaSError) -> Oaas_Router_HeartbeatResponse {
        do {
            try registry.heartbeat(request, ttl: leaseTTL, now: .now)
        } catch {
            rebuild() // an expired lease found here was dropped
            throw error
        }
        if request.updateShards { rebuild() }
        var response = Oaas_Router_HeartbeatResponse()
        response.leaseTtlMs = ttlMilliseconds
        response.revision = snapshot.revision
        return response
    }

    func deregister(leaseID: String) {
        if registry.deregister(leaseID: leaseID) {
            logger.info("node deregistered", metadata: ["lease_id": "\(leaseID)"])
            rebuild()
        }
    }

    /// Drops expired leases (called by the sweeper).
    func expireLeases() {
        let expired = registry.expire(now: .now)
        guard !expired.isEmpty else { return }
        for entry in expired {
            logger.warning("lease expired; routes removed", metadata: [
                "instance_id": "\(entry.instanceID)", "address": "\(entry.address)",
            ])
        }
        rebuild()
    }

    /// Replaces what one peer contributes; nil forgets the peer.
    func setPeerRoutes(_ url: String, _ collections: [Oaas_Router_CollectionRoute]?) {
        peers[url] = collections
        rebuild()
    }

    func table(clsID: String?, localOnly: Bool) -> Oaas_Router_RouteTable {
        snapshot.table(clsID: clsID, localOnly: localOnly, now: Self.nowMilliseconds)
    }

    /// A stream that yields after each change of the table; at most one wake-up is buffered, so a slow watcher
    /// sees one signal for many changes (coalescing).
    func watch() -> (id: UInt64, stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        nextWatcherID += 1
        watchers[nextWatcherID] = continuation
        return (nextWatcherID, stream, continuation)
    }

    func unwatch(_ id: UInt64) {
        watchers.removeValue(forKey: id)?.finish()
    }

    var watcherCount: Int { watchers.count }

    private func rebuild() {
        metrics.nodes(registry.countsByRole)
        let local = RouteTableBuilder.build(nodes: registry.nodes.values)
        let next = RouteSnapshot.merge(local: local, peers: peers, revision: snapshot.revision + 1, env: env)
        guard next.local != snapshot.local || next.merged != snapshot.merged else { return }
        snapshot = next
        metrics.revision(next.revision)
        for (id, continuation) in watchers {
            if case .terminated = continuation.yield() { watchers[id] = nil }
        }
    }

    private var ttlMilliseconds: UInt32 {
        UInt32(clamping: RouterConfig.milliseconds(leaseTTL))
    }

    static var nowMilliseconds: UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }
}
