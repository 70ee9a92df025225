import OaaSCore
import OaaSProto

/// An ``ObjectStore`` that sends each call to the ODGM node owning its (class, partition) per the route table
/// (spec §4.7, §8.1). Stats fans out to every node and concatenates; Capabilities is the AND over the ready nodes
/// (§4.5). Read retries are left to ``GatewayObjectStore``, which re-resolves the route on each attempt.
public struct RoutingObjectStore: ObjectStore {
    let calls: RoutedCalls

    /// - Parameters:
    ///   - routes: the watched route table.
    ///   - nodes: the connection of each node address.
    ///   - fallback: DEFAULT_ODGM_URL, for classes with no route.
    public init(routes: any RouteSource, nodes: any NodeConnector, fallback: String? = nil, config: GatewayConfig) {
        calls = RoutedCalls(resolver: RouteResolver(routes: routes, fallback: fallback, env: config.envName), nodes: nodes,
                            retryAttempts: config.retryAttempts, retryBackoff: config.retryBackoff)
    }

    public func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        try await on(request.clsID, request.partitionID, context) { try await $0.get(request, context: context) }
    }

    public func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64 {
        try await on(request.clsID, try Self.partition(request.partitionID), context) { try await $0.set(request, context: context) }
    }

    public func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        try await on(request.clsID, try Self.partition(request.partitionID), context) { try await $0.merge(request, context: context) }
    }

    public func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64 {
        try await on(request.clsID, request.partitionID, context) { try await $0.delete(request, context: context) }
    }

    public func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse {
        try await on(request.clsID, request.partitionID, context) { try await $0.getValue(request, context: context) }
    }

    public func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64 {
        try await on(request.clsID, try Self.partition(request.partitionID), context) { try await $0.setValue(request, context: context) }
    }

    public func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64 {
        try await on(request.clsID, request.partitionID, context) { try await $0.deleteValue(request, context: context) }
    }

    public func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64 {
        try await on(request.clsID, request.partitionID, context) { try await $0.batchSetValues(request, context: context) }
    }

    public func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage {
        try await on(request.clsID, request.partitionID, context) { try await $0.listValues(request, context: context) }
    }

    public func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope] {
        try await on(request.clsID, request.partitionID, context) { try await $0.listObjects(request, context: context) }
    }

    public func stats(context: CallContext) async throws -> Oprc_StatsResponse {
        let nodes = try readyNodes()
        var response = Oprc_StatsResponse()
        for address in nodes {
            response.shards += try await calls.nodes.upstream(for: address).store.stats(context: context).shards
        }
        return response
    }

    public func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse {
        var combined: Oprc_CapabilitiesResponse?
        for address in try readyNodes() {
            let node = try await calls.nodes.upstream(for: address).store.capabilities(context: context)
            guard var result = combined else {
                combined = node
                continue
            }
            result.stringIds = result.stringIds && node.stringIds
            result.stringEntryKeys = result.stringEntryKeys && node.stringEntryKeys
            result.granularEntryStorage = result.granularEntryStorage && node.granularEntryStorage
            result.eventPipelineV2 = result.eventPipelineV2 && node.eventPipelineV2
            combined = result
        }
        guard let combined else { throw OaaSError(.unavailable, "no ready ODGM node") }
        return combined
    }

    private func readyNodes() throws(OaaSError) -> [String] {
        let nodes = calls.resolver.readyNodes()
        if nodes.isEmpty { throw OaaSError(.unavailable, "no ready ODGM node") }
        return nodes
    }

    private func on<T: Sendable>(_ clsID: String, _ partitionID: UInt32, _ context: CallContext,
                                 _ body: (any ObjectStore) async throws -> T) async throws -> T {
        try await calls.run(clsID, partitionID, .data, idempotent: false, context: context) { try await body($0.store) }
    }

    /// The int32 partition fields of Set/SetValue (a reference quirk, spec §3.2).
    static func partition(_ raw: Int32) throws(OaaSError) -> UInt32 {
        guard raw >= 0 else { throw OaaSError(.invalidArgument, "partition_id must not be negative (got \(raw))") }
        return UInt32(raw)
    }
}
