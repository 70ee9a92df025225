import Foundation
import OaaSProto

/// The JSON text frames of the gateway's WebSocket routes (data-plane spec §8.6).
public enum ChangeEventFrame {
    /// One `ObjectChangeEvent`: `{object_id, id_kind, cls_id, partition_id, source, version, changes, object_deleted,
    /// truncated}`; numeric ids and keys are decimal strings, values standard base64.
    public static func event(_ event: Oaas_Router_ObjectChangeEvent) -> String {
        let numericID = !event.hasObjectIDStr
        let frame = EventFrame(
            objectID: numericID ? String(event.objectID) : event.objectIDStr,
            idKind: numericID ? "numeric" : "string",
            clsID: event.clsID,
            partitionID: event.partitionID,
            source: event.source == .sync ? "sync" : "local",
            version: event.version,
            changes: event.changes.map { change in
                ChangeFrame(
                    key: change.hasKeyStr ? change.keyStr : String(change.key),
                    keyKind: change.hasKeyStr ? "string" : "numeric",
                    action: action(change.action),
                    value: change.hasValue ? change.value.data.base64EncodedString() : nil)
            },
            objectDeleted: event.objectDeleted,
            truncated: event.truncated)
        return encode(frame)
    }

    /// A router-side drop: `{"type":"gap","dropped":N}`.
    public static func gap(dropped: UInt64) -> String {
        encode(GapFrame(type: "gap", dropped: dropped))
    }

    private static func action(_ action: Oaas_Router_ChangeAction) -> String {
        switch action {
        case .create: "create"
        case .update: "update"
        case .delete: "delete"
        default: "unspecified"
        }
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain value types of strings, numbers and booleans always encode.
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    private struct EventFrame: Encodable {
        let objectID: String
        let idKind: String
        let clsID: String
        let partitionID: UInt32
        let source: String
        let version: UInt64
        let changes: [ChangeFrame]
        let objectDeleted: Bool
        let truncated: Bool

        enum CodingKeys: String, CodingKey {
            case objectID = "object_id", idKind = "id_kind", clsID = "cls_id", partitionID = "partition_id"
            case source, version, changes, truncated
            case objectDeleted = "object_deleted"
        }
    }

    private struct ChangeFrame: Encodable {
        let key: String
        let keyKind: String
        let action: String
        let value: String?

        enum CodingKeys: String, CodingKey {
            case key, action, value
            case keyKind = "key_kind"
        }
    }

    private struct GapFrame: Encodable {
        let type: String
        let dropped: UInt64
    }
}
