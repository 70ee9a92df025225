import OaaSCore
import OaaSProto

/// A function's route as this node executes it, after the checks of data-plane spec §5.2 step 2.
struct FunctionRoute: Sendable {
    let cls: String
    let fn: String
    let route: Oprc_FuncInvokeRoute
    let endpoint: Result<RuntimeEndpoint, RuntimeEndpoint.InvalidURL>
    let pool: RuntimePoolSettings

    /// The `oaas_owner` label; the raw URL when it does not parse.
    var owner: String {
        switch endpoint {
        case .success(let endpoint): endpoint.owner
        case .failure: route.url
        }
    }

    /// Checks in the spec's order: class → partition → function (disabled first, then missing,
    /// then the RPC kind) → the local shard that executes it.
    init(node: ODGMNode, cls: String, partition: UInt32, fn: String, stateless: Bool) throws(OaaSError) {
        let (collection, route) = try Self.resolve(node: node, cls: cls, partition: partition, fn: fn, stateless: stateless)
        let spec = collection.spec
        try Self.checkExecutor(collection, partition: partition, fn: fn, route: route)
        self.cls = cls
        self.fn = fn
        self.route = route
        self.endpoint = Result { () throws(RuntimeEndpoint.InvalidURL) in try RuntimeEndpoint(url: route.url) }
        self.pool = RuntimePoolSettings(options: spec.request.options)
    }

    /// The class, partition and function checks of §5.2 shared by sync calls and async Submit: class → partition →
    /// function (disabled first, as it may have no route; then missing; then the RPC kind).
    static func resolve(
        node: ODGMNode, cls: String, partition: UInt32, fn: String, stateless: Bool
    ) throws(OaaSError) -> (collection: ODGMNode.Collection, route: Oprc_FuncInvokeRoute) {
        guard let collection = node.collection(named: cls) else {
            throw OaaSError(.noClass, "class '\(cls)' not found")
        }
        let spec = collection.spec
        guard partition < spec.partitionCount else {
            throw OaaSError(.noPartition, "partition \(partition) not found in class '\(cls)' (partition_count \(spec.partitionCount))")
        }
        let invocations = spec.request.invocations
        if invocations.disabledFn.contains(fn) {
            throw OaaSError(.functionDisabled, "function '\(fn)' is disabled in class '\(cls)'")
        }
        guard let route = invocations.fnRoutes[fn] else {
            throw OaaSError(.noFunction, "function '\(fn)' not found in class '\(cls)'")
        }
        if stateless && !route.stateless {
            throw OaaSError(.invalidArgument, "function '\(fn)' of class '\(cls)' is an object method: call InvokeObj with an object id")
        }
        if !stateless && route.stateless {
            throw OaaSError(.invalidArgument, "function '\(fn)' of class '\(cls)' is stateless: call InvokeFn without an object id")
        }
        return (collection, route)
    }

    /// This node executes the call only through a ready local shard of the partition that may run
    /// it: the primary under `invoke_only_primary`, a member of a non-empty `active_group` (a
    /// `standby` route also runs elsewhere). Forwarding to the right node comes with the router
    /// (§4.7); until then a call this node may not run is UNAVAILABLE.
    private static func checkExecutor(_ collection: ODGMNode.Collection, partition: UInt32, fn: String, route: Oprc_FuncInvokeRoute) throws(OaaSError) {
        let cls = collection.spec.name
        let index = Int(partition)
        guard index < collection.shards.count, let shard = collection.shards[index] else {
            throw OaaSError(.unavailable, "no route for \(cls)/\(partition)")
        }
        guard shard.isReady else {
            throw OaaSError(.unavailable, "shard \(shard.shardID) of \(cls)/\(partition) is not ready")
        }
        if collection.spec.options.invokeOnlyPrimary {
            let replicas = index < collection.spec.placements.count ? collection.spec.placements[index] : []
            let placement = replicas.first { $0.shardID == shard.shardID }
            guard placement?.primary == true else {
                throw OaaSError(.unavailable, "class '\(cls)' runs invocations on the primary only; shard \(shard.shardID) of partition \(partition) is not it")
            }
        }
        if !route.activeGroup.isEmpty, !route.activeGroup.contains(shard.shardID), !route.standby {
            throw OaaSError(.unavailable, "shard \(shard.shardID) of \(cls)/\(partition) is not in the active group of function '\(fn)'")
        }
    }
}
