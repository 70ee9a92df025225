import Foundation
import GRPCCore
import OaaSCore

/// Conversions between gRPC `Metadata` and the `map<string,string>` of `ForwardRequest`/`ForwardResponse`.
/// Binary (`-bin`) values travel base64-encoded, as gRPC itself writes them on the wire.
enum ForwardMetadata {
    /// Keys the transport owns; a caller cannot pass them through.
    private static let reserved: Set<String> = ["grpc-timeout", "content-type", "te", "user-agent", "grpc-encoding",
                                                "grpc-accept-encoding", "grpc-status", "grpc-message"]

    static func metadata(from map: [String: String]) -> Metadata {
        var metadata = Metadata()
        for (rawKey, value) in map.sorted(by: { $0.key < $1.key }) {
            let key = rawKey.lowercased()
            if reserved.contains(key) || key.hasPrefix(":") { continue }
            if key.hasSuffix("-bin") {
                if let bytes = Data(base64Encoded: value) { metadata.addBinary(Array(bytes), forKey: key) }
            } else {
                metadata.addString(value, forKey: key)
            }
        }
        return metadata
    }

    /// Later values of a repeated key are joined with ", " (the HTTP rule for repeated headers).
    static func map(from metadata: Metadata, into map: inout [String: String]) {
        for (key, value) in metadata {
            let lowered = key.lowercased()
            if reserved.contains(lowered) { continue }
            let text: String
            switch value {
            case .string(let string): text = string
            case .binary(let bytes): text = Data(bytes).base64EncodedString()
            }
            if let existing = map[lowered] {
                map[lowered] = existing + ", " + text
            } else {
                map[lowered] = text
            }
        }
    }

    /// A `grpc-timeout` value's duration; nil when absent or malformed.
    static func timeout(_ raw: String?) -> Duration? {
        raw.flatMap(GRPCTimeout.parse)
    }
}
