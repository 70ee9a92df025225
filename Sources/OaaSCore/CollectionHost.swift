import OaaSProto

/// What the local runtime of `oaas dev` needs from the in-process ODGM: create, update and drop
/// collections at run time. ODGM implements it and registers it in the ``ServiceContainer``.
public protocol CollectionHost: Sendable {
    /// Creates the collection, or replaces its definition (routes, options) when it exists with the same
    /// partition count, replica count and shard type. Changing one of those throws `OaaSError(.invalidArgument)`.
    @discardableResult
    func applyCollection(_ request: Oprc_CreateCollectionRequest) async throws -> CollectionChange
    /// Removes the collection; `deleteData` also removes its objects. Unknown names are not an error.
    func dropCollection(named name: String, deleteData: Bool) async throws
    /// Names of the collections currently served.
    func collectionNames() async -> [String]
}

public enum CollectionChange: String, Sendable {
    case created, updated, unchanged
}
