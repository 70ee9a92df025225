import Foundation
import HTTPTypes
import OaaSCore

/// Media types and content negotiation of spec §8.3.
enum MediaType {
    static let json = "application/json"
    static let protobuf = "application/x-protobuf"
    static let octetStream = "application/octet-stream"

    /// How an ObjData or batch body is encoded.
    enum BodyFormat: Equatable {
        case protobuf
        case json
    }

    /// A missing Content-Type means protobuf; parameters (`; charset=…`) are ignored.
    static func bodyFormat(contentType: String?) throws(OaaSError) -> BodyFormat {
        guard let contentType else { return .protobuf }
        let essence = Self.essence(contentType)
        switch essence {
        case "", protobuf, octetStream: return .protobuf
        case json: return .json
        default:
            throw OaaSError(.unsupportedMediaType, "unsupported Content-Type '\(contentType)'; use \(protobuf), \(octetStream) or \(json)")
        }
    }

    /// True when a `application/x-protobuf` body must be read as a message rather than raw bytes.
    static func isProtobuf(contentType: String?) -> Bool {
        contentType.map { essence($0) == protobuf } ?? false
    }

    /// Responses are JSON when any Accept value contains `application/json`.
    static func wantsJSON(_ headers: HTTPFields) -> Bool {
        headers[values: .accept].contains { $0.lowercased().contains(json) }
    }

    /// The type/subtype part, lowercased and trimmed.
    private static func essence(_ value: String) -> String {
        let type = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }
}

/// Header names of the gateway's REST API.
enum OprcHeader {
    static let objectVersion = name("x-oprc-object-version")
    static let valueType = name("x-oprc-val-type")
    static let timeoutMs = name("x-oprc-timeout-ms")
    static let traceparent = name("traceparent")
    static let tracestate = name("tracestate")

    /// `HTTPField.Name` validates at run time and has no unchecked public initializer. These
    /// literals are valid tokens, so the fallback is never taken (the tests pin each name).
    private static func name(_ raw: String) -> HTTPField.Name {
        HTTPField.Name(raw) ?? .via
    }
}
