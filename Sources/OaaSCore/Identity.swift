/// An object's id: numeric and string ids are separate namespaces (spec §1.1).
public enum ObjectID: Hashable, Sendable, CustomStringConvertible {
    case numeric(UInt64)
    case string(String)

    public var description: String {
        switch self {
        case .numeric(let id): String(id)
        case .string(let id): id
        }
    }

    public var isString: Bool {
        if case .string = self { return true }
        return false
    }
}

/// An entry key: numeric `u32` and string keys are separate namespaces (spec §1.2).
public enum EntryKey: Hashable, Sendable, CustomStringConvertible {
    case numeric(UInt32)
    case string(String)

    public var description: String {
        switch self {
        case .numeric(let key): String(key)
        case .string(let key): key
        }
    }
}

/// The identity rules of spec §1: normalization and validation of string ids and keys.
public struct IdentityRules: Sendable {
    public var maxStringIdLength: Int

    public init(maxStringIdLength: Int = 160) {
        self.maxStringIdLength = maxStringIdLength
    }

    /// Validates the (numeric, optional string) pair of a request and returns the object id.
    public func objectID(numeric: UInt64, string: String?) throws(OaaSError) -> ObjectID {
        if let string {
            if numeric != 0 {
                throw OaaSError(.invalidObjectId, "exactly one of object_id or object_id_str must be set")
            }
            return .string(try normalize(string))
        }
        if numeric == 0 {
            throw OaaSError(.invalidObjectId, "object_id must be non-zero (0 means unset)")
        }
        return .numeric(numeric)
    }

    /// Lowercases (ASCII only) and checks emptiness, length and charset, in the spec's order.
    public func normalize(_ raw: String) throws(OaaSError) -> String {
        var bytes = Array(raw.utf8)
        if bytes.isEmpty {
            throw OaaSError(.invalidObjectId, "object_id_str must not be empty")
        }
        if bytes.count > maxStringIdLength {
            throw OaaSError(.invalidObjectId, "object_id_str length \(bytes.count) exceeds maximum \(maxStringIdLength)")
        }
        let original = bytes
        for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5A {
            bytes[i] += 0x20
        }
        for (offset, byte) in bytes.enumerated() where !Self.allowed(byte) {
            throw OaaSError(.invalidObjectId, "object_id_str contains invalid character '\(Self.shown(original, at: offset))' at offset \(offset); allowed [a-z0-9.:-]")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Validates a request's (numeric, optional string) key pair (spec §1.2).
    public func entryKey(numeric: UInt32, string: String?) throws(OaaSError) -> EntryKey {
        if let string {
            if numeric != 0 {
                throw OaaSError(.invalidArgument, "exactly one of key or key_str")
            }
            try validateStringKey(string)
            return .string(string)
        }
        return .numeric(numeric)
    }

    /// String keys are exact (never normalized); they must be non-empty, NUL-free and not too long.
    public func validateStringKey(_ key: String, field: String = "key_str") throws(OaaSError) {
        let count = key.utf8.count
        if count == 0 {
            throw OaaSError(.invalidArgument, "\(field) must not be empty")
        }
        if count > maxStringIdLength {
            throw OaaSError(.invalidArgument, "\(field) '\(key.prefix(32))…' length \(count) exceeds maximum \(maxStringIdLength)")
        }
        if key.utf8.contains(0) {
            throw OaaSError(.invalidArgument, "\(field) must not contain U+0000")
        }
    }

    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        // The spec's test checklist rejects `a_b`: underscore is not part of the charset.
        case UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// The character at a byte offset as the client sent it (a whole UTF-8 sequence when possible).
    private static func shown(_ bytes: [UInt8], at offset: Int) -> String {
        let byte = bytes[offset]
        if byte < 0x80 { return String(UnicodeScalar(byte)) }
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}
