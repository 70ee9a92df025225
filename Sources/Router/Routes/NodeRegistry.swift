import Foundation
import OaaSCore
import RouterClient
import OaaSProto

/// One registered node and its lease.
struct NodeEntry: Sendable, Equatable {
    var instanceID: String
    var leaseID: String
    var role: Oaas_Router_NodeRole
    var address: String
    /// The node's env, or the router's when the node named none.
    var env: String
    var odgmNodeID: UInt64
    var shards: [Oaas_Router_HostedShard]
    var collections: [Oprc_CreateCollectionRequest]
    var expiresAt: ContinuousClock.Instant
    /// Registration order: when nodes disagree on a collection's config, the latest registration wins.
    var sequence: UInt64
}

/// The lease bookkeeping of §7.1 as a plain value: register, renew, deregister, expire.
/// `RouteHub` owns one and rebuilds the route table after each change.
struct NodeRegistry: Sendable {
    private(set) var nodes: [String: NodeEntry] = [:]
    private var instanceByLease: [String: String] = [:]
    private var sequence: UInt64 = 0

    /// Validates and stores a registration; an existing entry of the same `instance_id` (and its lease) is replaced.
    mutating func register(_ request: Oaas_Router_RegisterRequest, routerEnv: String, ttl: Duration,
                           now: ContinuousClock.Instant) throws(OaaSError) -> NodeEntry {
        try Self.validate(request)
        if let old = nodes[request.instanceID] { instanceByLease[old.leaseID] = nil }
        sequence += 1
        let entry = NodeEntry(
            instanceID: request.instanceID, leaseID: UUID().uuidString.lowercased(), role: request.role,
            address: request.address, env: request.env.isEmpty ? routerEnv : request.env,
            odgmNodeID: request.odgmNodeID, shards: request.shards, collections: request.collections,
            expiresAt: now + ttl, sequence: sequence)
        nodes[entry.instanceID] = entry
        instanceByLease[entry.leaseID] = entry.instanceID
        return entry
    }

    /// Renews a lease, optionally replacing the shard list. An unknown or already expired lease is NOT_FOUND
    /// (the node registers again); an expired one is dropped here rather than waiting for the sweeper.
    mutating func heartbeat(_ request: Oaas_Router_HeartbeatRequest, ttl: Duration,
                            now: ContinuousClock.Instant) throws(OaaSError) {
        guard let instanceID = instanceByLease[request.leaseID], var entry = nodes[instanceID] else {
            throw OaaSError(.notFound, "lease '\(request.leaseID)' not found; register again")
        }
        guard entry.expiresAt > now else {
            remove(instanceID)
            throw OaaSError(.notFound, "lease '\(request.leaseID)' expired; register again")
        }
        if request.updateShards {
            try Self.validate(shards: request.shards)
            entry.shards = request.shards
        }
        entry.expiresAt = now + ttl
        nodes[instanceID] = entry
    }

    /// Removes the lease's node; false when the lease is unknown (deregistering twice is harmless).
    mutating func deregister(leaseID: String) -> Bool {
        guard let instanceID = instanceByLease[leaseID] else { return false }
        remove(instanceID)
        return true
    }

    /// Drops every node whose lease ran out and returns them.
    mutating func expire(now: ContinuousClock.Instant) -> [NodeEntry] {
        let expired = nodes.values.filter { $0.expiresAt <= now }
        for entry in expired { remove(entry.instanceID) }
        return expired
    }

    /// Registered nodes per role (the `router_nodes{role}` gauge).
    var countsByRole: [Oaas_Router_NodeRole: Int] {
        nodes.values.reduce(into: [:]) { $0[$1.role, default: 0] += 1 }
    }

    private mutating func remove(_ instanceID: String) {
        guard let entry = nodes.removeValue(forKey: instanceID) else { return }
        instanceByLease[entry.leaseID] = nil
    }

    private static func validate(_ request: Oaas_Router_RegisterRequest) throws(OaaSError) {
        if request.instanceID.isEmpty { throw OaaSError(.invalidArgument, "instance_id required") }
        if request.role == .unspecified { throw OaaSError(.invalidArgument, "role required") }
        if request.role == .odgm || !request.address.isEmpty, GRPCEndpoint(url: request.address) == nil {
            throw OaaSError(.invalidArgument, "address: '\(request.address)' is not an http://host:port URL")
        }
        for (index, collection) in request.collections.enumerated() where collection.name.isEmpty {
            throw OaaSError(.invalidArgument, "collections[\(index)].name required")
        }
        try validate(shards: request.shards)
    }

    private static func validate(shards: [Oaas_Router_HostedShard]) throws(OaaSError) {
        for (index, shard) in shards.enumerated() where shard.clsID.isEmpty {
            throw OaaSError(.invalidArgument, "shards[\(index)].cls_id required")
        }
    }
}
