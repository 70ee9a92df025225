import OaaSProto

/// A received route table with lookups by class and partition.
struct RouteIndex: Sendable {
    let table: Oaas_Router_RouteTable
    let collections: [String: Oaas_Router_CollectionRoute]
    let shards: [String: [UInt32: [Oaas_Router_ShardRoute]]]

    init(_ table: Oaas_Router_RouteTable) {
        self.table = table
        var collections: [String: Oaas_Router_CollectionRoute] = [:]
        var shards: [String: [UInt32: [Oaas_Router_ShardRoute]]] = [:]
        for collection in table.collections {
            collections[collection.clsID] = collection
            var byPartition: [UInt32: [Oaas_Router_ShardRoute]] = [:]
            for partition in collection.partitions { byPartition[partition.partitionID, default: []] += partition.shards }
            shards[collection.clsID] = byPartition
        }
        self.collections = collections
        self.shards = shards
    }
}
