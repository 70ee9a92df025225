/// State of one decode: the problems and warnings found so far. Decoding goes on after a problem so that every
/// problem is reported at once; both lists come out in document order, whatever order the models read fields in.
final class DecodeSession {
    let mode: ModelDecoder.Mode
    let strict: Bool
    /// Prepended to messages (`document 2: ...`) when a stream holds several documents.
    var messagePrefix = ""
    private var recordedIssues: [(order: [Int], issue: ValidationIssue)] = []
    private var recordedWarnings: [(order: [Int], message: String)] = []

    init(mode: ModelDecoder.Mode, strict: Bool) {
        self.mode = mode
        self.strict = strict
    }

    var issues: [ValidationIssue] { Self.inDocumentOrder(recordedIssues) }
    var warnings: [String] { Self.inDocumentOrder(recordedWarnings) }

    /// `order` is the position of the value in the source (member and element indexes from the root).
    func fail(_ path: FieldPath, _ message: String, code: ModelError.Code = .badRequest, order: [Int]) {
        recordedIssues.append((order, ValidationIssue(code, field: path.description, messagePrefix + message)))
    }

    /// Rule 3: an unknown key is a warning, or an error in strict mode; stored documents are read silently
    /// (a newer writer may have added fields).
    func unknownField(_ path: FieldPath, order: [Int]) {
        switch (mode, strict) {
        case (.stored, _): return
        case (.input, true): fail(path, "unknown field", code: .validationFailed, order: order)
        case (.input, false): recordedWarnings.append((order, messagePrefix + "unknown field '\(path)' ignored"))
        }
    }

    /// Stable sort by source position (a parent before its children).
    private static func inDocumentOrder<T>(_ items: [([Int], T)]) -> [T] {
        items.enumerated().sorted { lhs, rhs in
            if lhs.element.0 != rhs.element.0 { return lhs.element.0.lexicographicallyPrecedes(rhs.element.0) }
            return lhs.offset < rhs.offset
        }.map(\.element.1)
    }
}

/// A value at a path, read as the type a field wants. Mismatches are recorded in the session and read as nil.
struct ValueReader {
    let value: SourceValue
    let path: FieldPath
    let session: DecodeSession
    /// Position in the source, for ordering messages.
    var order: [Int] = []

    func fail(_ message: String, code: ModelError.Code = .badRequest) {
        session.fail(path, message, code: code, order: order)
    }

    private func mismatch(_ expected: String) {
        fail("expected \(expected), found \(value.kindName)")
    }

    /// Rule 2: any scalar fills a string field with its source text; null means absent.
    func string() -> String? {
        switch value {
        case .null: return nil
        case let .string(text), let .number(text), let .bool(_, text): return text
        case .array, .object:
            mismatch("a string")
            return nil
        }
    }

    /// Booleans, also as strings ("true") as reference files sometimes write them.
    func bool() -> Bool? {
        switch value {
        case .null: return nil
        case let .bool(flag, _): return flag
        case let .string(text):
            if let flag = NumberText.bool(text) { return flag }
            fail("expected true or false, found '\(text)'")
            return nil
        default:
            mismatch("true or false")
            return nil
        }
    }

    /// An unsigned integer of the field's width; numbers given as strings ("3") are accepted.
    func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) -> T? {
        let text: String
        switch value {
        case .null: return nil
        case let .number(spelled), let .string(spelled): text = spelled
        default:
            mismatch("an integer")
            return nil
        }
        let outOfRange = "must be an integer in 0...\(T.max), found '\(text)'"
        guard let parsed = NumberText.integer(text) else {
            if NumberText.isOversizedInteger(text) {
                fail(outOfRange, code: .validationFailed)
            } else {
                fail("expected an integer, found '\(text)'")
            }
            return nil
        }
        guard !parsed.negative, let result = T(exactly: parsed.magnitude) else {
            fail(outOfRange, code: .validationFailed)
            return nil
        }
        return result
    }

    /// A floating-point number; numbers given as strings ("0.99") are accepted.
    func double() -> Double? {
        switch value {
        case .null: return nil
        case let .number(text), let .string(text):
            if let number = NumberText.double(text) { return number }
            fail("expected a number, found '\(text)'")
            return nil
        default:
            mismatch("a number")
            return nil
        }
    }

    /// An enum value; spellings are matched case-insensitively (the reference wrote `Public` where we write `PUBLIC`).
    func enumeration<E: ModelEnum>(_ type: E.Type) -> E? {
        guard let text = string() else { return nil }
        if let parsed = E(parsing: text) { return parsed }
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        fail("unknown value '\(text)', expected one of \(allowed)", code: .validationFailed)
        return nil
    }

    /// The elements of a list; null reads as absent.
    func list() -> [ValueReader]? {
        switch value {
        case .null: return nil
        case let .array(items):
            return items.enumerated().map { ValueReader(value: $1, path: path.index($0), session: session, order: order + [$0]) }
        default:
            mismatch("a list")
            return nil
        }
    }

    func stringList() -> [String]? {
        list()?.compactMap { $0.string() }
    }

    /// A `{string: string}` map; scalar values are coerced like string fields (`HTTP_PORT: 80` → "80"),
    /// null values read as "".
    func stringMap() -> [String: String]? {
        guard let entries = entries() else { return nil }
        var result: [String: String] = [:]
        for entry in entries {
            result[entry.key] = entry.reader.string() ?? ""
        }
        return result
    }

    /// A `{string: T}` map whose values are read by `read` (absent from the result when they fail).
    func map<T>(_ read: (ValueReader) -> T?) -> [String: T]? {
        guard let entries = entries() else { return nil }
        var result: [String: T] = [:]
        for entry in entries {
            if let item = read(entry.reader) { result[entry.key] = item }
        }
        return result
    }

    /// The entries of a map, duplicates reported.
    private func entries() -> [(key: String, reader: ValueReader)]? {
        switch value {
        case .null: return nil
        case let .object(members):
            var seen = Set<String>()
            var unique: [(key: String, reader: ValueReader)] = []
            for (index, member) in members.enumerated() {
                let reader = ValueReader(value: member.value, path: path.mapKey(member.key), session: session, order: order + [index])
                if seen.insert(member.key).inserted {
                    unique.append((member.key, reader))
                } else {
                    reader.fail("duplicate key")
                }
            }
            return unique
        default:
            mismatch("an object")
            return nil
        }
    }

    /// Reads an object with `read`, then reports the keys `read` did not look at.
    func object<T>(_ read: (ObjectReader) -> T) -> T? {
        guard case let .object(members) = value else {
            if case .null = value { return nil }
            mismatch("an object")
            return nil
        }
        let reader = ObjectReader(members: members, path: path, order: order, session: session)
        let result = read(reader)
        reader.reportUnknownKeys()
        return result
    }

    /// Free-form content (kept as written).
    func document() -> DocumentValue { value.documentValue }
}

/// Reads the fields of one object by name, remembering which keys were read.
final class ObjectReader {
    let path: FieldPath
    let session: DecodeSession
    private let order: [Int]
    private let members: [SourceMember]
    /// Index of the first member of each key.
    private var positions: [String: Int] = [:]
    private var read: Set<String> = []

    init(members: [SourceMember], path: FieldPath, order: [Int], session: DecodeSession) {
        self.members = members
        self.path = path
        self.order = order
        self.session = session
        for (index, member) in members.enumerated() {
            if positions[member.key] == nil {
                positions[member.key] = index
            } else {
                session.fail(path.key(member.key), "duplicate key", order: order + [index])
            }
        }
    }

    var mode: ModelDecoder.Mode { session.mode }

    func contains(_ key: String) -> Bool { positions[key] != nil }

    /// The field `key`, if present; marks it as known.
    subscript(key: String) -> ValueReader? {
        read.insert(key)
        guard let index = positions[key] else { return nil }
        return ValueReader(value: members[index].value, path: path.key(key), session: session, order: order + [index])
    }

    func string(_ key: String) -> String? { self[key]?.string() }
    func bool(_ key: String) -> Bool? { self[key]?.bool() }
    func double(_ key: String) -> Double? { self[key]?.double() }
    func uint16(_ key: String) -> UInt16? { self[key]?.unsigned(UInt16.self) }
    func uint32(_ key: String) -> UInt32? { self[key]?.unsigned(UInt32.self) }
    func uint64(_ key: String) -> UInt64? { self[key]?.unsigned(UInt64.self) }
    func stringList(_ key: String) -> [String]? { self[key]?.stringList() }
    func stringMap(_ key: String) -> [String: String]? { self[key]?.stringMap() }
    func enumeration<E: ModelEnum>(_ key: String, _ type: E.Type) -> E? { self[key]?.enumeration(type) }

    func object<T>(_ key: String, _ readObject: (ObjectReader) -> T) -> T? {
        self[key]?.object(readObject)
    }

    /// A list of objects; elements that are not objects are reported and skipped.
    func objects<T>(_ key: String, _ readObject: (ObjectReader) -> T) -> [T]? {
        self[key]?.list()?.compactMap { element in
            if case .null = element.value {
                element.fail("expected an object, found null")
                return nil
            }
            return element.object(readObject)
        }
    }

    /// Rule 4: server-owned fields are read only from storage; on input they are skipped without a warning.
    func serverOwned<T>(_ key: String, _ readValue: (ValueReader) -> T?) -> T? {
        read.insert(key)
        guard session.mode == .stored else { return nil }
        return self[key].flatMap(readValue)
    }

    func reportUnknownKeys() {
        var reported = Set<String>()
        for (index, member) in members.enumerated() where !read.contains(member.key) && reported.insert(member.key).inserted {
            session.unknownField(path.key(member.key), order: order + [index])
        }
    }
}
