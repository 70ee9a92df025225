import Yams

/// YAML text ↔ our value trees, through Yams' `Node` API so scalars keep their source text (a plain `1.0` stays the
/// text `1.0`; only the field that reads it decides whether it is a string or a number).
enum YAMLSource {
    struct SyntaxError: Error, Sendable {
        var message: String
    }

    /// Aliases can make a small file expand enormously ("billion laughs"); both limits stop that early.
    static let maxNodes = 1_000_000
    static let maxDepth = 512

    /// Every document of a YAML stream, in order (empty documents are `.null`).
    static func documents(_ text: String) throws(SyntaxError) -> [SourceValue] {
        var budget = maxNodes
        var result: [SourceValue] = []
        do {
            // Parser.nextRoot throws on a bad document (compose_all's sequence would swallow the error).
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                result.append(try convert(node, depth: 0, budget: &budget))
            }
        } catch let error as SyntaxError {
            throw error
        } catch {
            throw SyntaxError(message: "invalid YAML: \(describe(error))")
        }
        return result
    }

    /// Yams' messages repeat the offending source line with a caret; one line is enough for an API error.
    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        return lines.first.map(String.init)?.trimmingASCIIWhitespace() ?? text
    }

    private static func convert(_ node: Node, depth: Int, budget: inout Int) throws(SyntaxError) -> SourceValue {
        budget -= 1
        guard budget >= 0 else { throw SyntaxError(message: "YAML document too large: more than \(maxNodes) nodes") }
        guard depth <= maxDepth else { throw SyntaxError(message: "YAML nesting deeper than \(maxDepth) levels") }
        switch node {
        case let .scalar(scalar):
            return convert(scalar, tag: Tag.Name(rawValue: node.tag.description))
        case let .alias(alias):
            throw SyntaxError(message: "unresolved YAML alias '\(alias.anchor.rawValue)'")
        case let .sequence(sequence):
            var items: [SourceValue] = []
            items.reserveCapacity(sequence.count)
            for item in sequence {
                items.append(try convert(item, depth: depth + 1, budget: &budget))
            }
            return .array(items)
        case let .mapping(mapping):
            var members: [SourceMember] = []
            var merged: [SourceMember] = []
            for (keyNode, valueNode) in mapping {
                guard case let .scalar(keyScalar) = keyNode else {
                    throw SyntaxError(message: "YAML mapping keys must be scalars (line \(keyNode.mark?.line ?? 0))")
                }
                if Tag.Name(rawValue: keyNode.tag.description) == .merge {
                    // `<<: *base` (or a list of bases): keys written in this mapping win; earlier bases win over later.
                    merged.append(contentsOf: try mergeSources(valueNode, depth: depth + 1, budget: &budget))
                    continue
                }
                members.append(SourceMember(key: keyScalar.string, value: try convert(valueNode, depth: depth + 1, budget: &budget)))
            }
            var present = Set(members.map(\.key))
            for member in merged where !present.contains(member.key) {
                present.insert(member.key)
                members.append(member)
            }
            return .object(members)
        }
    }

    private static func mergeSources(_ node: Node, depth: Int, budget: inout Int) throws(SyntaxError) -> [SourceMember] {
        let sources: [Node]
        switch node {
        case .mapping: sources = [node]
        case let .sequence(sequence): sources = Array(sequence)
        default: throw SyntaxError(message: "YAML merge key '<<' needs a mapping or a list of mappings")
        }
        var members: [SourceMember] = []
        for source in sources {
            guard case .mapping = source, case let .object(sourceMembers) = try convert(source, depth: depth, budget: &budget) else {
                throw SyntaxError(message: "YAML merge key '<<' needs a mapping or a list of mappings")
            }
            members.append(contentsOf: sourceMembers)
        }
        return members
    }

    /// Quoted and block scalars are strings (Yams tags them `str`); plain ones are typed by YAML 1.1's rules,
    /// keeping the text for string fields.
    private static func convert(_ scalar: Node.Scalar, tag: Tag.Name) -> SourceValue {
        let text = scalar.string
        switch tag {
        case .null: return .null
        case .bool: return NumberText.bool(text).map { .bool($0, text: text) } ?? .string(text)
        case .int, .float: return .number(text)
        default: return .string(text)
        }
    }

    // MARK: - Writing

    /// YAML text of one value (block style, two-space indent, no line wrapping).
    static func write(_ value: DocumentValue) throws(SyntaxError) -> String {
        try write(documents: [value])
    }

    /// A YAML stream; documents after the first are introduced by `---`.
    static func write(documents values: [DocumentValue]) throws(SyntaxError) -> String {
        do {
            return try Yams.serialize(nodes: values.map(node), indent: 2, width: -1, allowUnicode: true)
        } catch {
            throw SyntaxError(message: "cannot write YAML: \(error)")
        }
    }

    private static func node(_ value: DocumentValue) -> Node {
        switch value {
        case .null:
            return Node("null", Tag(.null))
        case let .bool(flag):
            return Node(flag ? "true" : "false", Tag(.bool))
        case let .number(text):
            return Node(NumberText.jsonNumber(text) ?? text, Tag(text.contains(".") || text.lowercased().contains("e") ? .float : .int))
        case let .string(text):
            // Strings that YAML would read as something else (`1.0`, `true`, `null`, `2024-01-01`) are quoted.
            return .scalar(text.represented())
        case let .array(items):
            return .sequence(Node.Sequence(items.map(node)))
        case let .object(members):
            return .mapping(Node.Mapping(members.map { (Node($0.key.represented()), node($0.value)) }))
        }
    }
}

private extension Node {
    init(_ scalar: Node.Scalar) { self = .scalar(scalar) }
}
