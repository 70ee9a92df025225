/// A JSON-shaped value as the models are written out (and as free-form fields such as
/// `status.nfr_recommendations` are kept). Numbers keep their text so nothing is lost to binary floating point;
/// object members keep their order so output is deterministic.
public enum DocumentValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number in JSON syntax (`80`, `0.999`, `-1e-3`).
    case number(String)
    case string(String)
    case array([DocumentValue])
    case object([DocumentMember])

    /// The member named `key` of an object (first match), else nil.
    public subscript(key: String) -> DocumentValue? {
        guard case let .object(members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }
}

/// One key/value pair of a `DocumentValue.object`.
public struct DocumentMember: Sendable, Equatable {
    public var key: String
    public var value: DocumentValue

    public init(_ key: String, _ value: DocumentValue) {
        self.key = key
        self.value = value
    }
}

/// Anything the model layer can write as a document (every model type; arrays of them).
public protocol DocumentRepresentable: Sendable {
    var documentValue: DocumentValue { get }
}

extension DocumentValue: DocumentRepresentable {
    public var documentValue: DocumentValue { self }
}

extension Array: DocumentRepresentable where Element: DocumentRepresentable {
    public var documentValue: DocumentValue { .array(map(\.documentValue)) }
}

// MARK: - Typed constructors used by the encoders

extension DocumentValue {
    init(_ value: String) { self = .string(value) }
    init(_ value: Bool) { self = .bool(value) }
    init<T: BinaryInteger>(_ value: T) { self = .number(String(value)) }

    /// Doubles print in their shortest round-tripping form; JSON has no NaN or infinity, so those become null.
    init(_ value: Double) {
        self = value.isFinite ? .number(value.description) : .null
    }

    init(_ values: [String]) { self = .array(values.map(DocumentValue.init)) }

    /// Maps are written sorted by key: stable output whatever the hash seed.
    init(_ map: [String: String]) {
        self = .object(map.keys.sorted().map { DocumentMember($0, .string(map[$0] ?? "")) })
    }
}

// MARK: - Codable (so models nest inside other Codable types; numbers go through Double/Int64 there)

extension DocumentValue: Codable {
    private struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: DynamicKey.self) {
            // Keys sorted: a Decoder does not promise the source order.
            let keys = keyed.allKeys.sorted { $0.stringValue < $1.stringValue }
            self = .object(try keys.map { DocumentMember($0.stringValue, try keyed.decode(DocumentValue.self, forKey: $0)) })
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [DocumentValue] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(DocumentValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int64.self) {
            self = .number(String(value))
        } else if let value = try? single.decode(UInt64.self) {
            self = .number(String(value))
        } else if let value = try? single.decode(Double.self) {
            self = DocumentValue(value)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case let .bool(value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case let .number(text):
            var single = encoder.singleValueContainer()
            if let value = Int64(text) {
                try single.encode(value)
            } else if let value = UInt64(text) {
                try single.encode(value)
            } else if let value = Double(text) {
                try single.encode(value)
            } else {
                try single.encode(text)
            }
        case let .string(value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case let .array(items):
            var unkeyed = encoder.unkeyedContainer()
            for item in items { try unkeyed.encode(item) }
        case let .object(members):
            var keyed = encoder.container(keyedBy: DynamicKey.self)
            for member in members { try keyed.encode(member.value, forKey: DynamicKey(stringValue: member.key)) }
        }
    }
}
