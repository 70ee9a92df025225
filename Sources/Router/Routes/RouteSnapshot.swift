import OaaSCore
import OaaSProto

/// Where a call for one (class, partition) goes.
enum RouteTarget: Sendable, Equatable {
    /// An ODGM node this router knows directly.
    case node(address: String)
    /// A peer router that knows the class (§7.1: a class known only through a peer goes via that peer).
    case peer(url: String)
}

/// One revision of the route table: the local routes, and the local routes merged with the peers'.
struct RouteSnapshot: Sendable {
    var revision: UInt64
    var local: [String: Oaas_Router_CollectionRoute]
    var merged: [String: Oaas_Router_CollectionRoute]
    /// For merged partitions that came from a peer: class → partition → peer URL.
    var peerPartitions: [String: [UInt32: String]]
    /// Classes with no local routes at all: class → the peer URL that supplied them.
    var peerClasses: [String: String]
    /// The router's own env: a tie-breaker when picking a replica.
    var env: String

    static func empty(revision: UInt64, env: String) -> RouteSnapshot {
        RouteSnapshot(revision: revision, local: [:], merged: [:], peerPartitions: [:], peerClasses: [:], env: env)
    }

    /// Local routes merged with the peers' local routes; local wins for the same (cls, pid), and the first peer (by
    /// URL) wins between peers.
    static func merge(local: [String: Oaas_Router_CollectionRoute], peers: [String: [Oaas_Router_CollectionRoute]],
                      revision: UInt64, env: String) -> RouteSnapshot {
        var merged = local
        var peerPartitions: [String: [UInt32: String]] = [:]
        var peerClasses: [String: String] = [:]
        for url in peers.keys.sorted() {
            for route in peers[url] ?? [] where !route.clsID.isEmpty {
                guard var existing = merged[route.clsID] else {
                    merged[route.clsID] = route
                    peerClasses[route.clsID] = url
                    for partition in route.partitions { peerPartitions[route.clsID, default: [:]][partition.partitionID] = url }
                    continue
                }
                let known = Set(existing.partitions.map(\.partitionID))
                let added = route.partitions.filter { !known.contains($0.partitionID) }
                guard !added.isEmpty else { continue }
                existing.partitions = (existing.partitions + added).sorted { $0.partitionID < $1.partitionID }
                merged[route.clsID] = existing
                for partition in added { peerPartitions[route.clsID, default: [:]][partition.partitionID] = url }
            }
        }
        return RouteSnapshot(revision: revision, local: local, merged: merged, peerPartitions: peerPartitions,
                             peerClasses: peerClasses, env: env)
    }

    /// The table a client asked for (§7.2 `GetRoutesRequest`).
    func table(clsID: String?, localOnly: Bool, now: UInt64) -> Oaas_Router_RouteTable {
        var table = Oaas_Router_RouteTable()
        table.revision = revision
        table.generatedAtMs = now
        table.collections = collections(clsID: clsID, localOnly: localOnly)
        return table
    }

    func collections(clsID: String?, localOnly: Bool) -> [Oaas_Router_CollectionRoute] {
        let source = localOnly ? local : merged
        if let clsID { return source[clsID].map { [$0] } ?? [] }
        return source.keys.sorted().compactMap { source[$0] }
    }

    /// Every ODGM address in the table (the client pool closes the others).
    var addresses: Set<String> {
        Set(merged.values.flatMap { $0.partitions.flatMap { $0.shards.map(\.address) } })
    }

    /// The owner of (cls, pid): a ready primary first, then a ready replica in this router's env, then any ready one.
    func target(clsID: String, partitionID: UInt32) throws(OaaSError) -> RouteTarget {
        guard let route = merged[clsID] else { throw OaaSError(.noClass, "class '\(clsID)' not found") }
        guard partitionID < route.partitionCount else {
            throw OaaSError(.noPartition,
                            "partition \(partitionID) not found in class '\(clsID)' (partition_count \(route.partitionCount))")
        }
        if let url = peerPartitions[clsID]?[partitionID] { return .peer(url: url) }
        let shards = route.partitions.first { $0.partitionID == partitionID }?.shards ?? []
        if shards.isEmpty, let url = peerClasses[clsID] { return .peer(url: url) }
        let ready = shards.filter(\.ready)
        guard let chosen = ready.first(where: \.primary) ?? ready.first(where: { $0.env == env }) ?? ready.first else {
            throw OaaSError(.unavailable, "no route for \(clsID)/\(partitionID)")
        }
        return .node(address: chosen.address)
    }

    /// A ready ODGM node for calls that name no class (Stats, Capabilities): the lowest address, for stability.
    func anyReadyNode() throws(OaaSError) -> RouteTarget {
        let addresses = local.values.flatMap { $0.partitions.flatMap { $0.shards.filter(\.ready).map(\.address) } }
        guard let address = addresses.min() else { throw OaaSError(.unavailable, "no ready ODGM node is registered") }
        return .node(address: address)
    }
}
