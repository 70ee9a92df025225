/// A label selector in the API's query syntax (`app=x,tier in (a,b),!legacy`), built from typed requirements.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible, ExpressibleByDictionaryLiteral {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, [String])
        case notIn(String, [String])
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    public init(_ requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// Equality on every pair, in key order (so the rendered string is stable).
    public init(matching labels: [String: String]) {
        self.requirements = labels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.requirements = elements.map { .equals($0.0, $0.1) }
    }

    public var isEmpty: Bool { requirements.isEmpty }

    public var description: String {
        requirements.map { requirement in
            switch requirement {
            case .equals(let key, let value): return "\(key)=\(value)"
            case .notEquals(let key, let value): return "\(key)!=\(value)"
            case .in(let key, let values): return "\(key) in (\(values.joined(separator: ",")))"
            case .notIn(let key, let values): return "\(key) notin (\(values.joined(separator: ",")))"
            case .exists(let key): return key
            case .doesNotExist(let key): return "!\(key)"
            }
        }.joined(separator: ",")
    }

    /// Evaluates the selector locally (for informer caches), with the API server's semantics.
    public func matches(_ labels: [String: String]) -> Bool {
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
}
