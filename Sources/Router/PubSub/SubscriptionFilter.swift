import OaaSCore
import OaaSProto

/// Which events one subscriber wants (spec §7.2 `SubscribeRequest`), validated once.
struct SubscriptionFilter: Sendable, Equatable {
    var clsID: String
    var partitionID: UInt32?
    var object: ObjectID?
    var includeValues: Bool
    var localOnly: Bool

    init(_ request: Oaas_Router_SubscribeRequest, rules: IdentityRules = IdentityRules()) throws(OaaSError) {
        guard !request.clsID.isEmpty else { throw OaaSError(.invalidArgument, "cls_id required") }
        clsID = request.clsID
        partitionID = request.hasPartitionID ? request.partitionID : nil
        switch (request.hasObjectID, request.hasObjectIDStr) {
        case (true, true):
            throw OaaSError(.invalidObjectId, "exactly one of object_id or object_id_str must be set")
        case (true, false):
            guard request.objectID != 0 else { throw OaaSError(.invalidObjectId, "object_id must be non-zero (0 means unset)") }
            object = .numeric(request.objectID)
        case (false, true):
            object = .string(try rules.normalize(request.objectIDStr))
        case (false, false):
            object = nil
        }
        includeValues = request.includeValues
        localOnly = request.localOnly
    }

    /// `bridged`: the event came from a peer router.
    func matches(_ event: Oaas_Router_ObjectChangeEvent, bridged: Bool) -> Bool {
        if localOnly && bridged { return false }
        guard event.clsID == clsID else { return false }
        if let partitionID, event.partitionID != partitionID { return false }
        switch object {
        case nil: return true
        case .numeric(let id): return event.hasObjectID && event.objectID == id
        case .string(let id): return event.hasObjectIDStr && event.objectIDStr == id
        }
    }
}
