/// The id of an object (data-plane spec §1.1): numeric and string ids are separate namespaces,
/// so `42` and `"42"` name different objects.
public enum ObjectID: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case numeric(UInt64)
    case string(String)

    public init(integerLiteral value: UInt64) { self = .numeric(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    public var description: String {
        switch self {
        case .numeric(let id): String(id)
        case .string(let id): id
        }
    }
}

/// The key of an entry (data-plane spec §1.2): numeric `u32` keys and string keys are separate
/// namespaces. String keys are exact (case-sensitive, never normalized).
public enum EntryKey: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case numeric(UInt32)
    case string(String)

    public init(integerLiteral value: UInt32) { self = .numeric(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    public var description: String {
        switch self {
        case .numeric(let key): String(key)
        case .string(let key): key
        }
    }
}
