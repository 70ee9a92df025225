import Kube
import OaaSProto

/// `ODGM_COLLECTION` (control-plane spec §11.4): one `oprc.CreateCollectionRequest` per collection of the class,
/// carrying the resolved routes. ODGM and every function receive the same JSON.
public enum OdgmCollections {
    /// One request per `odgm_config.collections` entry (default: the class id `{package}.{class}`); none when the
    /// spec turns the ODGM addon off. partition/replica counts default to 1, shard type to `none`; assignments are
    /// kept only when they fit the counts (else `[]`, and ODGM places shards itself).
    public static func requests(_ cr: ClassRuntime, routes: ResolvedRoutes) -> [Oprc_CreateCollectionRequest] {
        guard cr.spec.odgmAddonEnabled else { return [] }
        let odgm = cr.spec.odgmConfig ?? ClassRuntimeSpec.OdgmConfig()
        let names = odgm.collections.isEmpty ? [cr.spec.packageClassKey] : odgm.collections
        let partitions = max(1, odgm.partitionCount ?? 1)
        let replicas = max(1, odgm.replicaCount ?? 1)
        let invocations = invocationRoute(routes)
        return names.map { name in
            var request = Oprc_CreateCollectionRequest()
            request.name = name
            request.partitionCount = partitions
            request.replicaCount = replicas
            request.shardType = odgm.shardType.flatMap { $0.isEmpty ? nil : $0 } ?? "none"
            request.options = odgm.options
            if let assignments = odgm.collectionAssignments[name],
               isValid(assignments, partitions: Int(partitions), replicas: Int(replicas))
            {
                request.shardAssignments = assignments.map { assignment in
                    var shard = Oprc_ShardAssignment()
                    if let primary = assignment.primary { shard.primary = primary }
                    shard.replica = assignment.replica
                    shard.shardIds = assignment.shardIds
                    return shard
                }
            }
            request.invocations = invocations
            return request
        }
    }

    /// The JSON array, proto field names, every field written (empty lists and maps too, as in the spec's example),
    /// keys sorted so equal requests give equal bytes. u64 values are JSON numbers (node ids fit in 53 bits).
    public static func json(_ requests: [Oprc_CreateCollectionRequest]) -> String {
        JSONValue.array(requests.map(jsonValue)).jsonString()
    }

    static func jsonValue(_ request: Oprc_CreateCollectionRequest) -> JSONValue {
        let routes = request.invocations.fnRoutes.mapValues { route -> JSONValue in
            var object: JSONValue = [
                "url": .string(route.url), "stateless": .bool(route.stateless), "standby": .bool(route.standby),
                "active_group": .array(route.activeGroup.map(number)),
            ]
            if route.hasWasmModuleURL { object["wasm_module_url"] = .string(route.wasmModuleURL) }
            if route.hasWasmFuel { object["wasm_fuel"] = number(route.wasmFuel) }
            return object
        }
        return [
            "name": .string(request.name),
            "partition_count": .int(Int64(request.partitionCount)),
            "replica_count": .int(Int64(request.replicaCount)),
            "shard_type": .string(request.shardType),
            "options": JSONValue(request.options),
            "shard_assignments": .array(request.shardAssignments.map { shard in
                var object: JSONValue = [
                    "replica": .array(shard.replica.map(number)), "shard_ids": .array(shard.shardIds.map(number)),
                ]
                if shard.hasPrimary { object["primary"] = number(shard.primary) }
                return object
            }),
            "invocations": [
                "fn_routes": .object(routes),
                "disabled_fn": JSONValue(request.invocations.disabledFn),
            ],
        ]
    }

    /// JSONValue holds Int64; a u64 beyond it (only a fuel budget could be) is effectively unlimited, so clamp.
    private static func number(_ value: UInt64) -> JSONValue { .int(Int64(clamping: value)) }

    static func invocationRoute(_ routes: ResolvedRoutes) -> Oprc_InvocationRoute {
        var invocation = Oprc_InvocationRoute()
        invocation.fnRoutes = routes.routes.mapValues { resolved in
            var route = Oprc_FuncInvokeRoute()
            route.url = resolved.url
            route.stateless = resolved.stateless
            route.standby = resolved.standby
            route.activeGroup = resolved.activeGroup
            if let value = resolved.wasmModuleUrl { route.wasmModuleURL = value }
            if let value = resolved.wasmFuel { route.wasmFuel = value }
            return route
        }
        invocation.disabledFn = routes.disabled
        return invocation
    }

    /// One assignment per partition; each `replica` and `shard_ids` of length `replicas`; `primary` (when set) one of
    /// the partition's shard ids; shard ids unique in the collection.
    static func isValid(_ assignments: [ClassRuntimeSpec.ShardAssignment], partitions: Int, replicas: Int) -> Bool {
        guard assignments.count == partitions else { return false }
        var seen = Set<UInt64>()
        for assignment in assignments {
            guard assignment.replica.count == replicas, assignment.shardIds.count == replicas else { return false }
            if let primary = assignment.primary, !assignment.shardIds.contains(primary) { return false }
            for id in assignment.shardIds where !seen.insert(id).inserted { return false }
        }
        return true
    }
}
