import Foundation

/// A parsed `labelSelector`: equality (`=`, `==`, `!=`) and set-based (`in`, `notin`, `key`, `!key`) requirements,
/// all of which must hold.
struct LabelSelectorExpression: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    var requirements: [Requirement] = []

    static let everything = LabelSelectorExpression()

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .in(let key, let values): return labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): return labels[key].map { !values.contains($0) } ?? true
            case .exists(let key): return labels[key] != nil
            case .doesNotExist(let key): return labels[key] == nil
            }
        }
    }

    func matches(_ object: TestJSON) -> Bool {
        requirements.isEmpty || matches(Self.labels(of: object))
    }

    static func labels(of object: TestJSON) -> [String: String] {
        object.value(at: "metadata", "labels")?.objectValue?.compactMapValues(\.stringValue) ?? [:]
    }

    static func parse(_ text: String) throws(APIError) -> LabelSelectorExpression {
        var expression = LabelSelectorExpression()
        for term in splitTopLevel(text) {
            let term = term.trimmingCharacters(in: .whitespaces)
            if term.isEmpty { continue }
            expression.requirements.append(try parseRequirement(term, in: text))
        }
        return expression
    }

    /// Splits at commas outside parentheses (`a in (x,y),b` is two terms).
    private static func splitTopLevel(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1
            case ")": depth -= 1
            default: break
            }
            if character == ",", depth <= 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    private static func parseRequirement(_ term: String, in text: String) throws(APIError) -> Requirement {
        func fail(_ why: String) -> APIError {
            .badRequest("unable to parse requirement: \(why) (selector \"\(text)\")")
        }
        func key(_ raw: some StringProtocol) throws(APIError) -> String {
            let key = raw.trimmingCharacters(in: .whitespaces)
            guard Validation.labelKeyProblem(key) == nil else { throw fail("invalid label key \"\(key)\"") }
            return key
        }
        func value(_ raw: some StringProtocol) throws(APIError) -> String {
            let value = raw.trimmingCharacters(in: .whitespaces)
            guard Validation.labelValueProblem(value) == nil else { throw fail("invalid label value \"\(value)\"") }
            return value
        }
        if term.hasPrefix("!") {
            return .doesNotExist(try key(term.dropFirst()))
        }
        if let open = term.firstIndex(of: "(") {
            guard term.hasSuffix(")") else { throw fail("missing )") }
            let head = term[..<open].split(whereSeparator: \.isWhitespace)
            guard head.count == 2 else { throw fail("expected <key> in|notin (<values>)") }
            let inside = term[term.index(after: open)..<term.index(before: term.endIndex)]
            var values = Set<String>()
            for raw in inside.split(separator: ",", omittingEmptySubsequences: false) {
                values.insert(try value(raw))
            }
            switch head[1] {
            case "in": return .in(try key(head[0]), values)
            case "notin": return .notIn(try key(head[0]), values)
            default: throw fail("unknown operator \(head[1])")
            }
        }
        if let range = term.range(of: "!=") {
            return .notEquals(try key(term[..<range.lowerBound]), try value(term[range.upperBound...]))
        }
        if let range = term.range(of: "==") ?? term.range(of: "=") {
            return .equals(try key(term[..<range.lowerBound]), try value(term[range.upperBound...]))
        }
        for symbol in [">", "<"] where term.contains(symbol) {
            throw fail("operator \(symbol) is not supported by this test server")
        }
        return .exists(try key(term))
    }
}

/// A parsed `fieldSelector`; only `metadata.name` and `metadata.namespace` (as every resource supports).
struct FieldSelectorExpression: Sendable {
    var requirements: [(field: String, value: String, equal: Bool)] = []

    static let everything = FieldSelectorExpression()

    func matches(_ object: TestJSON) -> Bool {
        requirements.allSatisfy { requirement in
            let path = requirement.field.split(separator: ".").map(String.init)
            let actual = object.value(at: path)?.stringValue ?? ""
            return (actual == requirement.value) == requirement.equal
        }
    }

    static func parse(_ text: String) throws(APIError) -> FieldSelectorExpression {
        var expression = FieldSelectorExpression()
        for term in text.split(separator: ",") {
            let term = String(term).trimmingCharacters(in: .whitespaces)
            if term.isEmpty { continue }
            let parts: (String, String, Bool)
            if let range = term.range(of: "!=") {
                parts = (String(term[..<range.lowerBound]), String(term[range.upperBound...]), false)
            } else if let range = term.range(of: "==") ?? term.range(of: "=") {
                parts = (String(term[..<range.lowerBound]), String(term[range.upperBound...]), true)
            } else {
                throw .badRequest("invalid field selector term \"\(term)\"")
            }
            let field = parts.0.trimmingCharacters(in: .whitespaces)
            guard field == "metadata.name" || field == "metadata.namespace" else {
                throw .badRequest("field label not supported: \(field)")
            }
            expression.requirements.append((field, parts.1.trimmingCharacters(in: .whitespaces), parts.2))
        }
        return expression
    }
}
