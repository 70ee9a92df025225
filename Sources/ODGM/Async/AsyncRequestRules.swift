import OaaSCore
import OaaSProto

/// Where a validated async call lives: its partition on this node and that partition's storage.
struct AsyncTarget: Sendable {
    let key: AsyncCallKey
    let store: AsyncCallStore
}

/// The checks Submit and GetResult make before touching storage, in the order of data-plane
/// spec §4.6 (shape → ids → class → partition), plus the function rules of §5.2 for Submit.
struct AsyncRequestRules: Sendable {
    let node: ODGMNode
    let identity: IdentityRules

    init(node: ODGMNode) {
        self.node = node
        self.identity = IdentityRules(maxStringIdLength: node.config.maxStringIdLength)
    }

    /// The call with normalized ids, and where it is recorded. `invocationID` is the client's or a new one.
    func submission(_ request: Oaas_Invocation_SubmitRequest) throws(OaaSError) -> (call: Oaas_Invocation_SubmitRequest.OneOf_Call, target: AsyncTarget) {
        guard var call = request.call else {
            throw OaaSError(.invalidArgument, "call: exactly one of fn or obj must be set")
        }
        let invocationID: String
        if request.hasInvocationID {
            try Self.checkInvocationID(request.invocationID)
            invocationID = request.invocationID
        } else {
            invocationID = InvocationIDs.generate()
        }
        let cls: String, partition: UInt32, fn: String, stateless: Bool
        switch call {
        case .fn(let fnCall):
            (cls, partition, fn, stateless) = (fnCall.clsID, fnCall.partitionID, fnCall.fnID, true)
            try Self.checkNames(cls: cls, fn: fn)
        case .obj(var objCall):
            (cls, partition, fn, stateless) = (objCall.clsID, objCall.partitionID, objCall.fnID, false)
            try Self.checkNames(cls: cls, fn: fn)
            let id = try identity.objectID(numeric: objCall.objectID, string: objCall.hasObjectIDStr ? objCall.objectIDStr : nil)
            if case .string(let normalized) = id { objCall.objectIDStr = normalized }
            call = .obj(objCall)
        }
        let (collection, _) = try FunctionRoute.resolve(node: node, cls: cls, partition: partition, fn: fn, stateless: stateless)
        let target = try target(collection, partition, invocationID)
        return (call, target)
    }

    /// The stored call a GetResult names, and the object id it must match (nil: a stateless call).
    func lookup(_ request: Oaas_Invocation_GetResultRequest) throws(OaaSError) -> (target: AsyncTarget, objectID: ObjectID?) {
        if request.clsID.isEmpty { throw OaaSError(.invalidArgument, "cls_id required") }
        if request.fnID.isEmpty { throw OaaSError(.invalidArgument, "fn_id required") }
        try Self.checkInvocationID(request.invocationID)
        var objectID: ObjectID?
        if request.objectID != 0 || request.hasObjectIDStr {
            objectID = try identity.objectID(numeric: request.objectID, string: request.hasObjectIDStr ? request.objectIDStr : nil)
        }
        let collection = try collection(request.clsID, request.partitionID)
        return (try target(collection, request.partitionID, request.invocationID), objectID)
    }

    // MARK: Rules

    /// Client-chosen ids: `[A-Za-z0-9_-]{1,64}` (spec §5.5).
    static func checkInvocationID(_ id: String) throws(OaaSError) {
        if let problem = InvocationIDs.problem(id) { throw OaaSError(.invalidArgument, "invocation_id \(problem)") }
    }

    private static func checkNames(cls: String, fn: String) throws(OaaSError) {
        if cls.isEmpty { throw OaaSError(.invalidArgument, "cls_id required") }
        if fn.isEmpty { throw OaaSError(.invalidArgument, "fn_id required") }
    }

    private func collection(_ cls: String, _ partition: UInt32) throws(OaaSError) -> ODGMNode.Collection {
        guard let collection = node.collection(named: cls) else { throw OaaSError(.noClass, "class '\(cls)' not found") }
        guard partition < collection.spec.partitionCount else {
            throw OaaSError(.noPartition, "partition \(partition) not found in class '\(cls)' (partition_count \(collection.spec.partitionCount))")
        }
        return collection
    }

    /// The partition's shard must be hosted here and ready: async calls are recorded where their
    /// partition's data lives.
    private func target(_ collection: ODGMNode.Collection, _ partition: UInt32, _ invocationID: String) throws(OaaSError) -> AsyncTarget {
        let cls = collection.spec.name
        guard Int(partition) < collection.shards.count, let shard = collection.shards[Int(partition)] else {
            throw OaaSError(.unavailable, "no route for \(cls)/\(partition)")
        }
        guard shard.isReady else { throw OaaSError(.unavailable, "shard \(shard.shardID) of \(cls)/\(partition) is not ready") }
        return AsyncTarget(key: AsyncCallKey(collection: cls, partition: partition, invocationID: invocationID),
                           store: AsyncCallStore(dbs: collection.databases))
    }
}
