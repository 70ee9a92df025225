import Foundation
import OaaSCore
import OaaSProto

/// Where an event happened: the source object, its version after the event, the commit time, and
/// the depth the resulting deliveries travel at.
struct TriggerSource: Sendable {
    var collection: String
    var partition: UInt32
    var id: ObjectID
    var version: UInt64
    var timestampMs: UInt64
    /// `oaas-trigger-depth` of the deliveries (the source's depth + 1).
    var deliveryDepth: Int
    /// `oaas-invocation-id` of the call that caused the event, if it carried one.
    var invocationID: String?
}

/// Builds the `TriggerPayload` of spec §6.2 (fields of §3.2).
enum TriggerPayloads {
    /// A data event: `original_payload` is the new value for CREATE and UPDATE, absent for DELETE.
    static func data(_ change: EntryChange, source: TriggerSource) -> Oprc_TriggerPayload {
        var info = eventInfo(source)
        switch change.action {
        case .create: info.eventType = .dataCreate
        case .update: info.eventType = .dataUpdate
        case .delete: info.eventType = .dataDelete
        }
        switch change.key {
        case .numeric(let key):
            info.key = key
        case .string(let key):
            info.keyStr = key
            // Reference runtimes only know the context map.
            info.context["key_str"] = key
        }
        var payload = Oprc_TriggerPayload()
        payload.eventInfo = info
        if change.action != .delete, let value = change.value { payload.originalPayload = value.data }
        return payload
    }

    /// A function event: OKAY carries the response payload; an error carries the request payload
    /// and `context["error"]`.
    static func function(fn: String, outcome: FunctionOutcome, source: TriggerSource) -> Oprc_TriggerPayload {
        var info = eventInfo(source)
        info.fnID = fn
        var payload = Oprc_TriggerPayload()
        switch outcome {
        case .completed(let response):
            info.eventType = .funcComplete
            payload.originalPayload = response
        case .failed(let request, let error):
            info.eventType = .funcError
            info.context["error"] = error
            payload.originalPayload = request
        }
        payload.eventInfo = info
        return payload
    }

    private static func eventInfo(_ source: TriggerSource) -> Oprc_EventInfo {
        var info = Oprc_EventInfo()
        info.sourceClsID = source.collection
        info.sourcePartitionID = source.partition
        switch source.id {
        case .numeric(let id): info.sourceObjectID = id
        case .string(let id): info.sourceObjectIDStr = id
        }
        info.timestamp = source.timestampMs
        info.context["object_version"] = String(source.version)
        info.context["trigger_depth"] = String(source.deliveryDepth)
        if let id = source.invocationID, !id.isEmpty { info.context["invocation_id"] = id }
        return info
    }
}

/// How an InvokeObj ended, as far as function triggers care.
enum FunctionOutcome: Sendable {
    /// OKAY, with the response payload.
    case completed(Data)
    /// Any other status or a failure, with the request payload and the error text.
    case failed(request: Data, error: String)

    var succeeded: Bool {
        if case .completed = self { return true }
        return false
    }
}
