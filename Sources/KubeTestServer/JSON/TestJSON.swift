import Foundation
import Yams

/// The test server's JSON model (int64/float64 numbers, as the real API server decodes unstructured JSON).
///
/// Deliberately independent of the `Kube` client's `JSONValue`: a bug in shared code would otherwise hide on both
/// sides of the wire.
public enum TestJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([TestJSON])
    case object([String: TestJSON])

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value):
            guard value.rounded() == value else { return nil }
            return Int64(exactly: value)
        default: return nil
        }
    }

    public var arrayValue: [TestJSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: TestJSON]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Member access; setting `nil` removes the key, setting on a non-object makes it an object.
    public subscript(key: String) -> TestJSON? {
        get {
            guard case .object(let members) = self else { return nil }
            return members[key]
        }
        set {
            var members = objectValue ?? [:]
            members[key] = newValue
            self = .object(members)
        }
    }

    public func value(at path: String...) -> TestJSON? { value(at: path) }

    public func value(at path: [String]) -> TestJSON? {
        var current: TestJSON? = self
        for key in path { current = current?[key] }
        return current
    }

    public mutating func setValue(_ newValue: TestJSON?, at path: String...) { setValue(newValue, at: path) }

    public mutating func setValue(_ newValue: TestJSON?, at path: [String]) {
        guard let first = path.first else {
            self = newValue ?? .null
            return
        }
        if path.count == 1 {
            self[first] = newValue
            return
        }
        var child = self[first] ?? .object([:])
        if child.objectValue == nil { child = .object([:]) }
        child.setValue(newValue, at: Array(path.dropFirst()))
        self[first] = child
    }
}

extension TestJSON: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: TestJSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TestJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension TestJSON: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([TestJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: TestJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension TestJSON {
    /// Parses JSON; `nil` when the bytes are not JSON.
    public static func parse(json bytes: some Sequence<UInt8>) -> TestJSON? {
        try? JSONDecoder().decode(TestJSON.self, from: Data(bytes))
    }

    /// Parses YAML (a superset of JSON); `nil` when it is not YAML, or is YAML this server refuses to parse
    /// (see `isSafeYAML`).
    public static func parse(yaml text: String) -> TestJSON? {
        guard isSafeYAML(text) else { return nil }
        return try? YAMLDecoder().decode(TestJSON.self, from: text)
    }

    /// JSON first (exact numbers, fast), then YAML.
    static func parse(jsonOrYAML bytes: [UInt8]) -> TestJSON? {
        if let json = parse(json: bytes) { return json }
        return parse(yaml: String(decoding: bytes, as: UTF8.self))
    }

    /// The YAML parser builds its tree recursively and expands aliases, so a request body could exhaust the stack
    /// or memory: refuse deep nesting (block indentation or flow brackets) and anchors/aliases, none of which a
    /// Kubernetes manifest needs.
    static func isSafeYAML(_ text: String) -> Bool {
        var flowDepth = 0
        var previous: UInt8 = 0x0A
        var indent = 0
        var atLineStart = true
        var bytes = text.utf8.makeIterator()
        var current = bytes.next()
        while let byte = current {
            let next = bytes.next()
            switch byte {
            case 0x0A:
                atLineStart = true
                indent = 0
            case 0x20 where atLineStart:
                indent += 1
                if indent > 256 { return false }
            case 0x5B, 0x7B:
                flowDepth += 1
                if flowDepth > 64 { return false }
            case 0x5D, 0x7D:
                flowDepth -= 1
            case 0x26, 0x2A:
                // `&anchor` / `*alias` at the start of a token.
                let tokenStart = [0x0A, 0x20, 0x5B, 0x7B, 0x2C, 0x09].contains(previous)
                let named = next.map { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }
                if tokenStart && named == true { return false }
            default:
                break
            }
            if byte != 0x20 && byte != 0x0A { atLineStart = false }
            previous = byte
            current = next
        }
        return true
    }

    /// Compact JSON with sorted keys.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public func jsonString() -> String { String(decoding: jsonData(), as: UTF8.self) }
}

extension TestJSON: CustomStringConvertible {
    public var description: String { jsonString() }
}
