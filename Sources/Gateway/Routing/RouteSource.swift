import OaaSProto
import RouterClient

/// Where the gateway looks up who serves a (class, partition): the route table watched from the router
/// (spec §8.1). A protocol so that routing can be tested with a fixed table.
public protocol RouteSource: Sendable {
    /// The latest table; nil until the first one arrived.
    var routeTable: Oaas_Router_RouteTable? { get }
    func collection(_ clsID: String) -> Oaas_Router_CollectionRoute?
    func shards(clsID: String, partitionID: UInt32) -> [Oaas_Router_ShardRoute]
}

extension RouteWatcher: RouteSource {
    public var routeTable: Oaas_Router_RouteTable? { latest }
}
