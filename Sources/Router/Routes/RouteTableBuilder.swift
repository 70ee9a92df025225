import OaaSProto

/// Turns registrations into the `CollectionRoute`s of §7.2. Pure, so the same registrations always give the same
/// table (the hub compares tables to decide whether the revision moves).
enum RouteTableBuilder {
    /// Collection options that routing needs; everything else stays on the ODGM nodes.
    static let routingOptions: Set<String> = ["invoke_only_primary", "raft_read"]

    /// The local routes, by class: collections named by ODGM nodes' `collections` and `shards`.
    static func build(nodes: some Collection<NodeEntry>) -> [String: Oaas_Router_CollectionRoute] {
        let odgm = nodes.filter { $0.role == .odgm }.sorted { $0.sequence < $1.sequence }
        var configs: [String: (config: Oprc_CreateCollectionRequest, env: String)] = [:]
        var shards: [String: [UInt32: [Oaas_Router_ShardRoute]]] = [:]
        var shardEnv: [String: String] = [:]
        for node in odgm {
            for collection in node.collections { configs[collection.name] = (collection, node.env) }
            for hosted in node.shards {
                var route = Oaas_Router_ShardRoute()
                route.shardID = hosted.shardID
                route.odgmNodeID = node.odgmNodeID
                route.address = node.address
                route.primary = hosted.primary
                route.ready = hosted.ready
                route.env = node.env
                shards[hosted.clsID, default: [:]][hosted.partitionID, default: []].append(route)
                if shardEnv[hosted.clsID] == nil { shardEnv[hosted.clsID] = node.env }
            }
        }

        var routes: [String: Oaas_Router_CollectionRoute] = [:]
        for cls in Set(configs.keys).union(shards.keys) {
            let byPartition = shards[cls] ?? [:]
            var route = Oaas_Router_CollectionRoute()
            route.clsID = cls
            if let (config, env) = configs[cls] {
                route.partitionCount = UInt32(max(1, config.partitionCount))
                route.replicaCount = UInt32(max(1, config.replicaCount))
                route.shardType = normalizedShardType(config.shardType)
                route.functions = config.invocations.fnRoutes
                route.options = config.options.filter { routingOptions.contains($0.key) }
                route.env = env
            } else {
                // Shards without a config (a node that sent none): size the class from what is hosted.
                route.partitionCount = (byPartition.keys.max() ?? 0) + 1
                route.replicaCount = UInt32(byPartition.values.map(\.count).max() ?? 1)
                route.env = shardEnv[cls] ?? ""
            }
            route.partitions = byPartition.keys.sorted().map { pid in
                var partition = Oaas_Router_PartitionRoute()
                partition.partitionID = pid
                partition.shards = (byPartition[pid] ?? []).sorted {
                    ($0.shardID, $0.odgmNodeID, $0.address) < ($1.shardID, $1.odgmNodeID, $1.address)
                }
                return partition
            }
            routes[cls] = route
        }
        return routes
    }

    /// The spec §9.2 names: `""`, `basic` and `single` mean `none`; case does not matter.
    static func normalizedShardType(_ raw: String) -> String {
        let lowered = raw.lowercased()
        return ["", "basic", "single"].contains(lowered) ? "none" : lowered
    }
}
