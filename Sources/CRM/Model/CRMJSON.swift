import Foundation
import Kube

/// Typed ⇄ `JSONValue` conversion with errors that name the JSON path (`spec.functions[1].port: ...`).
enum CRMJSON {
    /// Encodes a model type. Non-finite doubles (which JSON cannot carry) become strings instead of failing, so the
    /// conversion of our own types cannot fail in practice; the `.null` fallback only guards the impossible.
    static func encode(_ value: some Encodable) -> JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        guard let data = try? encoder.encode(value), let json = try? JSONValue(jsonData: data) else { return .null }
        return json
    }

    /// Decodes `value` as `T`; a failure becomes INTERNAL (a stored object is not the caller's input) naming
    /// `root` plus the path inside it.
    static func decode<T: Decodable>(_ value: JSONValue, as type: T.Type, root: String) throws(CRMError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: value.jsonData())
        } catch let error as DecodingError {
            throw .internalError(describe(error, root: root))
        } catch {
            throw .internalError("\(root): \(error)")
        }
    }

    static func describe(_ error: DecodingError, root: String) -> String {
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(root, context.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(root, context.codingPath)): expected \(typeName(type)), found null"
        case .keyNotFound(let key, let context):
            return "\(path(root, context.codingPath + [key])): required field is missing"
        case .dataCorrupted(let context):
            return "\(path(root, context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(root): \(error)"
        }
    }

    /// `spec` + [functions, 1, port] → `spec.functions[1].port`.
    static func path(_ root: String, _ codingPath: [any CodingKey]) -> String {
        var result = root
        for key in codingPath {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int32.Type, is Int64.Type, is UInt32.Type, is UInt64.Type, is Int.Type: "an integer in range"
        case is Double.Type: "a number"
        default: "\(type)"
        }
    }
}
