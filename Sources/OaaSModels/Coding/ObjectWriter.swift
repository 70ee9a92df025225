/// Builds a `DocumentValue.object` in field order. Absent optionals are left out; collections and plain values are
/// always written, so a reader of the output sees every default.
struct ObjectWriter {
    private(set) var members: [DocumentMember] = []

    var value: DocumentValue { .object(members) }

    mutating func add(_ key: String, _ value: DocumentValue) {
        members.append(DocumentMember(key, value))
    }

    mutating func add(_ key: String, _ value: String?) { if let value { add(key, DocumentValue(value)) } }
    mutating func add(_ key: String, _ value: Bool?) { if let value { add(key, DocumentValue(value)) } }
    mutating func add(_ key: String, _ value: Double?) { if let value { add(key, DocumentValue(value)) } }
    mutating func add<T: BinaryInteger>(_ key: String, _ value: T?) { if let value { add(key, DocumentValue(value)) } }
    mutating func add(_ key: String, _ value: [String]) { add(key, DocumentValue(value)) }
    mutating func add(_ key: String, _ value: [String: String]) { add(key, DocumentValue(value)) }
    mutating func add<E: ModelEnum>(_ key: String, _ value: E?) { if let value { add(key, DocumentValue(value.rawValue)) } }
    mutating func add(_ key: String, _ value: (some DocumentRepresentable)?) { if let value { add(key, value.documentValue) } }
    mutating func add(_ key: String, _ values: [some DocumentRepresentable]) { add(key, .array(values.map(\.documentValue))) }

    /// A map whose values are models, sorted by key.
    mutating func add(_ key: String, _ map: [String: some DocumentRepresentable]) {
        add(key, .object(map.keys.sorted().compactMap { name in map[name].map { DocumentMember(name, $0.documentValue) } }))
    }
}
