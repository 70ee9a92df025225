import OaaSCore
import OaaSProto

/// Picks the ODGM node for a call from the route table (spec §4.7, §5.2).
///
/// Data calls go to the ready primary, else a ready replica in this gateway's env, else any ready replica.
/// Invocations go to the ready primary when the class sets `invoke_only_primary=true`, else to the nearest ready
/// replica (same env first, primary preferred). A class missing from the table goes to DEFAULT_ODGM_URL when set.
struct RouteResolver: Sendable {
    enum Purpose: Sendable {
        case data, invocation
    }

    let routes: any RouteSource
    /// DEFAULT_ODGM_URL: the node of classes with no route.
    let fallback: String?
    /// OPRC_ENV of this gateway.
    let env: String?

    func address(clsID: String, partitionID: UInt32, purpose: Purpose) throws(OaaSError) -> String {
        if clsID.isEmpty { throw OaaSError(.invalidArgument, "cls_id required") }
        guard routes.routeTable != nil else {
            if let fallback { return fallback }
            throw OaaSError(.unavailable, "no route table from the router yet")
        }
        guard let collection = routes.collection(clsID) else {
            if let fallback { return fallback }
            throw OaaSError(.noClass, "class '\(clsID)' not found")
        }
        guard partitionID < collection.partitionCount else {
            throw OaaSError(.noPartition,
                            "partition \(partitionID) not found in class '\(clsID)' (partition_count \(collection.partitionCount))")
        }
        let ready = routes.shards(clsID: clsID, partitionID: partitionID).filter(\.ready)
        let onlyPrimary = purpose == .invocation && collection.options["invoke_only_primary"]?.lowercased() == "true"
        let chosen: Oaas_Router_ShardRoute?
        if onlyPrimary {
            chosen = ready.first(where: \.primary)
        } else if purpose == .data {
            chosen = ready.first(where: \.primary) ?? ready.first(where: { $0.env == env }) ?? ready.first
        } else {
            let near = ready.filter { $0.env == env }
            chosen = near.first(where: \.primary) ?? near.first ?? ready.first(where: \.primary) ?? ready.first
        }
        guard let chosen, !chosen.address.isEmpty else {
            throw OaaSError(.unavailable, "no route for \(clsID)/\(partitionID)")
        }
        return chosen.address
    }

    /// One address per node that serves a ready shard (Stats and Capabilities fan out to these), plus the fallback.
    func readyNodes() -> [String] {
        var addresses = Set<String>()
        for collection in routes.routeTable?.collections ?? [] {
            for partition in collection.partitions {
                for shard in partition.shards where shard.ready && !shard.address.isEmpty { addresses.insert(shard.address) }
            }
        }
        if let fallback { addresses.insert(fallback) }
        return addresses.sorted()
    }
}
