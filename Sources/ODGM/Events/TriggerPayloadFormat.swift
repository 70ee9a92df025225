import Foundation
import OaaSCore
import OaaSProto

/// How a `TriggerPayload` travels (collection option `trigger_payload_format`, spec §6.2).
enum TriggerPayloadFormat: UInt8, Sendable {
    /// The JSON mapping of spec §8.5 (the default).
    case json = 0
    case protobuf = 1

    var contentType: String {
        switch self {
        case .json: "application/json"
        case .protobuf: "application/x-protobuf"
        }
    }

    func encode(_ payload: Oprc_TriggerPayload) throws -> Data {
        switch self {
        case .json: try ProtoJSON.encode(payload)
        case .protobuf: try payload.serializedData()
        }
    }
}
