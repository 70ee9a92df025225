import ArgumentParser
import Foundation
import Yams

/// `-o/--output`: how a command prints its result.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case table, json, yaml
}

/// A JSON-shaped value whose objects keep their member order, so `-o json` and `-o yaml`
/// print the same fields in the same order.
indirect enum StructuredValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([StructuredValue])
    case object([(String, StructuredValue)])

    /// Converts the untyped tree a JSON encoder hands back (`[String: Any]` from `ProtoJSON`).
    /// Dictionary keys are sorted because dictionaries carry no order.
    static func from(any value: Any) -> StructuredValue {
        switch value {
        case let v as StructuredValue: return v
        case let v as String: return .string(v)
        case let v as Data: return .string(v.base64EncodedString())
        case let v as [String: Any]:
            return .object(v.sorted { $0.key < $1.key }.map { ($0.key, from(any: $0.value)) })
        case let v as [Any]:
            return .array(v.map { from(any: $0) })
        case is NSNull:
            return .null
        default:
            break
        }
        // Exact native types first: on Linux an NSNumber can also cast to Bool, and vice versa.
        let type = Swift.type(of: value)
        if type == Bool.self, let v = value as? Bool { return .bool(v) }
        if type == Int.self, let v = value as? Int { return .int(Int64(v)) }
        if type == Int32.self, let v = value as? Int32 { return .int(Int64(v)) }
        if type == Int64.self, let v = value as? Int64 { return .int(v) }
        if type == UInt.self, let v = value as? UInt { return .uint(UInt64(v)) }
        if type == UInt32.self, let v = value as? UInt32 { return .uint(UInt64(v)) }
        if type == UInt64.self, let v = value as? UInt64 { return .uint(v) }
        if type == Double.self, let v = value as? Double { return .double(v) }
        if type == Float.self, let v = value as? Float { return .double(Double(v)) }
        if let number = value as? NSNumber {
            let kind = String(cString: number.objCType)
            if kind == "c" || kind == "B", number.int64Value == 0 || number.int64Value == 1 {
                return .bool(number.boolValue)
            }
            switch kind {
            case "d", "f": return .double(number.doubleValue)
            case "Q", "L", "I", "S", "C": return .uint(number.uint64Value)
            default: return number.int64Value < 0 ? .int(number.int64Value) : .uint(number.uint64Value)
            }
        }
        return .string("\(value)")
    }

    /// A member of an object, if this is one.
    subscript(key: String) -> StructuredValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// This object with one member added or replaced.
    func setting(_ key: String, to value: StructuredValue) -> StructuredValue {
        guard case .object(var members) = self else { return self }
        if let index = members.firstIndex(where: { $0.0 == key }) {
            members[index].1 = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }

    // MARK: - JSON

    /// Pretty JSON (2-space indent) ending in a newline.
    func jsonText() -> String {
        var out = ""
        writeJSON(into: &out, indent: 0)
        out += "\n"
        return out
    }

    private func writeJSON(into out: inout String, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let v): out += v ? "true" : "false"
        case .int(let v): out += String(v)
        case .uint(let v): out += String(v)
        case .double(let v): out += v.isFinite ? "\(v)" : "null"
        case .string(let v): Self.writeJSONString(v, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                item.writeJSON(into: &out, indent: indent + 2)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                Self.writeJSONString(key, into: &out)
                out += ": "
                value.writeJSON(into: &out, indent: indent + 2)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    private static func writeJSONString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += String(format: "\\u%04x", scalar.value)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    // MARK: - YAML

    /// The same tree as YAML; strings that would read back as another type are quoted.
    func yamlNode() -> Node {
        switch self {
        case .null: Node("null", Tag(.null))
        case .bool(let v): Node(v ? "true" : "false", Tag(.bool))
        case .int(let v): Node(String(v), Tag(.int))
        case .uint(let v): Node(String(v), Tag(.int))
        case .double(let v): v.isFinite ? Node("\(v)", Tag(.float)) : Node("null", Tag(.null))
        case .string(let v): .scalar(v.represented())
        case .array(let items): Node(items.map { $0.yamlNode() })
        case .object(let members): Node(members.map { (Node.scalar($0.0.represented()), $0.1.yamlNode()) })
        }
    }

    func yamlText() throws -> String {
        try Yams.serialize(node: yamlNode(), width: -1, allowUnicode: true)
    }

    /// The text for `-o json` or `-o yaml`.
    func text(_ format: OutputFormat) throws -> String {
        format == .yaml ? try yamlText() : jsonText()
    }
}
