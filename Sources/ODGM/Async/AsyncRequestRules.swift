import Foundation
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
            invocationID = Self.newInvocationID()
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
        let collection = try collection(cls, partition)
        try checkFunction(fn, of: collection, stateless: stateless)
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
        let bytes = id.utf8
        guard !bytes.isEmpty else { throw OaaSError(.invalidArgument, "invocation_id must not be empty") }
        guard bytes.count <= 64 else {
            throw OaaSError(.invalidArgument, "invocation_id length \(bytes.count) exceeds maximum 64")
        }
        for (offset, byte) in bytes.enumerated() where !idAlphabet.contains(byte) {
            let shown = byte < 0x80 ? String(UnicodeScalar(byte)) : String(format: "\\x%02X", byte)
            throw OaaSError(.invalidArgument, "invocation_id contains invalid character '\(shown)' at offset \(offset); allowed [A-Za-z0-9_-]")
        }
    }

    /// 21 random URL-safe characters (the nanoid shape): 126 bits, so collisions are not a concern.
    static func newInvocationID() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = idAlphabetOrdered
        return String(decoding: (0..<21).map { _ in alphabet[Int(generator.next() & 63)] }, as: UTF8.self)
    }

    private static let idAlphabetOrdered: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".utf8)
    private static let idAlphabet = Set(idAlphabetOrdered)

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

    /// Spec §5.2: disabled first (it may have no route), then existence, then the RPC kind.
    private func checkFunction(_ fn: String, of collection: ODGMNode.Collection, stateless: Bool) throws(OaaSError) {
        let cls = collection.spec.name
        let invocations = collection.spec.request.invocations
        if invocations.disabledFn.contains(fn) {
            throw OaaSError(.functionDisabled, "function '\(fn)' is disabled in class '\(cls)'")
        }
        guard let route = invocations.fnRoutes[fn] else {
            throw OaaSError(.noFunction, "function '\(fn)' not found in class '\(cls)'")
        }
        if route.stateless && !stateless {
            throw OaaSError(.invalidArgument, "function '\(fn)' of class '\(cls)' is stateless: submit it as `fn` (InvokeFn), not `obj`")
        }
        if !route.stateless && stateless {
            throw OaaSError(.invalidArgument, "function '\(fn)' of class '\(cls)' is an object method: submit it as `obj` (InvokeObj), not `fn`")
        }
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
