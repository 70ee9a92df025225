import OaaSModels

/// Small constructors for response bodies, written as `DocumentValue` so JSON and YAML come from one value.
extension DocumentValue {
    /// An object in the given member order; nil values are left out.
    static func obj(_ members: KeyValuePairs<String, DocumentValue?>) -> DocumentValue {
        .object(members.compactMap { key, value in value.map { DocumentMember(key, $0) } })
    }

    static func str(_ value: String) -> DocumentValue { .string(value) }
    static func str(_ value: String?) -> DocumentValue? { value.map(DocumentValue.string) }
    static func int<T: BinaryInteger>(_ value: T) -> DocumentValue { .number(String(value)) }
    static func int<T: BinaryInteger>(_ value: T?) -> DocumentValue? { value.map { .number(String($0)) } }
    static func double(_ value: Double) -> DocumentValue { value.isFinite ? .number(value.description) : .null }
    static func double(_ value: Double?) -> DocumentValue? { value.map(double) }
    static func strings(_ values: [String]) -> DocumentValue { .array(values.map(DocumentValue.string)) }

    /// A string map, sorted by key.
    static func map(_ values: [String: String]) -> DocumentValue {
        .object(values.keys.sorted().map { DocumentMember($0, .string(values[$0] ?? "")) })
    }

    /// The object's members with `extra` appended (or replacing members of the same key in place).
    func adding(_ extra: [DocumentMember]) -> DocumentValue {
        guard case .object(var members) = self else { return self }
        for member in extra {
            if let index = members.firstIndex(where: { $0.key == member.key }) {
                members[index] = member
            } else {
                members.append(member)
            }
        }
        return .object(members)
    }
}
