import Foundation

/// Read access to PM's JSON for tables: tolerant of absent or differently typed fields.
extension StructuredValue {
    var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    var arrayValue: [StructuredValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Numbers as integers, whichever way JSON parsing typed them.
    var intValue: Int64? {
        switch self {
        case .int(let v): v
        case .uint(let v): Int64(exactly: v)
        case .double(let v): v.rounded() == v ? Int64(exactly: v) : nil
        case .string(let v): Int64(v)
        default: nil
        }
    }

    /// Scalars as text (strings as they are, lists joined with commas); nil when absent, null or a nested object.
    var scalarText: String? {
        switch self {
        case .null, .object: nil
        case .bool(let v): v ? "true" : "false"
        case .int(let v): String(v)
        case .uint(let v): String(v)
        case .double(let v): v.rounded() == v && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
        case .string(let v): v.isEmpty ? nil : v
        case .array(let items):
            items.isEmpty ? nil : items.compactMap(\.scalarText).joined(separator: ",")
        }
    }

    /// What a JSON value is, for messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .uint, .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    /// The member at a path of keys (`value[path: "metadata", "tags"]`).
    subscript(path keys: String...) -> StructuredValue? {
        var current: StructuredValue? = self
        for key in keys {
            current = current?[key]
        }
        return current
    }
}

extension Optional where Wrapped == StructuredValue {
    /// A table cell: the value's text, or `-` when absent.
    var cell: String {
        self?.scalarText ?? "-"
    }
}
