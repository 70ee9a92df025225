import Foundation

/// One RFC 6902 JSON Patch operation (`application/json-patch+json`). Paths are JSON Pointers; build segments with
/// `JSONPatchOperation.pointer(_:)` so `/` and `~` in keys such as `oaas.io/finalizer` are escaped.
public enum JSONPatchOperation: Sendable, Hashable, Encodable {
    case add(path: String, value: JSONValue)
    case remove(path: String)
    case replace(path: String, value: JSONValue)
    case move(from: String, path: String)
    case copy(from: String, path: String)
    /// Fails the whole patch (422) unless the value at `path` equals `value`.
    case test(path: String, value: JSONValue)

    /// A JSON Pointer from unescaped segments: `pointer("metadata", "annotations", "oaas.io/x")`.
    public static func pointer(_ segments: String...) -> String {
        pointer(segments)
    }

    public static func pointer(_ segments: [String]) -> String {
        segments.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
            .joined()
    }

    var json: JSONValue {
        switch self {
        case .add(let path, let value): return ["op": "add", "path": .string(path), "value": value]
        case .remove(let path): return ["op": "remove", "path": .string(path)]
        case .replace(let path, let value): return ["op": "replace", "path": .string(path), "value": value]
        case .move(let from, let path): return ["op": "move", "from": .string(from), "path": .string(path)]
        case .copy(let from, let path): return ["op": "copy", "from": .string(from), "path": .string(path)]
        case .test(let path, let value): return ["op": "test", "path": .string(path), "value": value]
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}
