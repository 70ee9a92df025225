/// A parsed JSON or YAML value as the source wrote it: scalars keep their exact text, so a string field can be
/// filled from `1.0` or `yes` without a detour through Double or Bool (decoding rule 2).
indirect enum SourceValue: Sendable, Equatable {
    case null
    /// `text` is the source spelling (`true`, `yes`, `On`...).
    case bool(Bool, text: String)
    /// The source spelling of a number (`80`, `1.0`, `0x1F`, `1_000`).
    case number(String)
    case string(String)
    case array([SourceValue])
    /// Members in source order; duplicates are kept here and reported by the reader with their path.
    case object([SourceMember])

    /// Short name of the kind, for "expected X, found Y" messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    /// The value as output, for free-form fields.
    var documentValue: DocumentValue {
        switch self {
        case .null: .null
        case let .bool(value, _): .bool(value)
        case let .number(text): NumberText.jsonNumber(text).map(DocumentValue.number) ?? .string(text)
        case let .string(text): .string(text)
        case let .array(items): .array(items.map(\.documentValue))
        case let .object(members): .object(members.map { DocumentMember($0.key, $0.value.documentValue) })
        }
    }

    init(_ value: DocumentValue) {
        switch value {
        case .null: self = .null
        case let .bool(flag): self = .bool(flag, text: flag ? "true" : "false")
        case let .number(text): self = .number(text)
        case let .string(text): self = .string(text)
        case let .array(items): self = .array(items.map(SourceValue.init))
        case let .object(members): self = .object(members.map { SourceMember(key: $0.key, value: SourceValue($0.value)) })
        }
    }
}

struct SourceMember: Sendable, Equatable {
    var key: String
    var value: SourceValue
}
