import Foundation

/// A JSON document as the Kubernetes API sees it.
///
/// Numbers are `int` or `double` because the API server itself decodes unstructured JSON into int64 or float64; keeping
/// the same split means a value round-trips through us exactly as it would through the server.
/// Deliberately not `ExpressibleByNilLiteral`: `flag ? nil : value` would silently mean JSON `null` where "absent"
/// was meant; write `.null` when null is meant.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

// MARK: Accessors

extension JSONValue {
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The integer value; a double is accepted when it is integral (YAML and some encoders write `3.0`).
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value):
            guard value.rounded() == value, let exact = Int64(exactly: value) else { return nil }
            return exact
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Member of an object; `nil` for a missing key or a non-object. Setting `nil` removes the key; setting a value on
    /// a non-object turns it into an object.
    public subscript(key: String) -> JSONValue? {
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

    /// Element of an array; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The value at a path of object keys, e.g. `value(at: "spec", "replicas")`.
    public func value(at path: String...) -> JSONValue? {
        value(at: path)
    }

    public func value(at path: [String]) -> JSONValue? {
        var current: JSONValue? = self
        for key in path { current = current?[key] }
        return current
    }

    /// Sets (or with `nil`, removes) the value at a path of object keys, creating intermediate objects.
    public mutating func setValue(_ newValue: JSONValue?, at path: String...) {
        setValue(newValue, at: path)
    }

    public mutating func setValue(_ newValue: JSONValue?, at path: [String]) {
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

// MARK: Literals

extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

// MARK: Conversions

extension JSONValue {
    public init(_ string: String) { self = .string(string) }
    public init(_ int: Int) { self = .int(Int64(int)) }
    public init(_ strings: [String: String]) { self = .object(strings.mapValues { .string($0) }) }
    public init(_ strings: [String]) { self = .array(strings.map { .string($0) }) }
}
