/// One step of a field path as server-side apply tracks it.
enum PathElement: Hashable, Sendable {
    /// An object member.
    case field(String)
    /// The element of a map-list identified by its key fields (`containers[name="app"]`).
    case key(TestJSON)
    /// A scalar element of a set-list (`finalizers[="x"]`).
    case value(TestJSON)
}

typealias FieldPath = [PathElement]

extension Array where Element == PathElement {
    /// A map-list element itself (the `.` entry of `fieldsV1`): owning it means owning the element's existence.
    var isElementMarker: Bool {
        if case .key? = last { return true }
        return false
    }

    func hasPrefix(_ prefix: FieldPath) -> Bool {
        count >= prefix.count && Array(self[..<prefix.count]) == prefix
    }

    /// `.spec.template.spec.containers[name="app"].image`, the form the real server uses in conflict messages.
    var rendered: String {
        map { element in
            switch element {
            case .field(let name): return "." + name
            case .key(let key):
                let members = (key.objectValue ?? [:]).sorted { $0.key < $1.key }
                return "[" + members.map { "\($0.key)=\($0.value.jsonString())" }.joined(separator: ",") + "]"
            case .value(let value): return "[=\(value.jsonString())]"
            }
        }.joined()
    }
}

/// Walks objects along field paths, with the list semantics of one resource.
struct FieldWalker {
    let info: ResourceInfo

    // MARK: Leaf sets

    /// Every leaf path of `value`: scalars, atomic lists, empty objects, set elements, and map-list elements
    /// (both the element marker and its fields).
    func leaves(of value: TestJSON) -> Set<FieldPath> {
        var result = Set<FieldPath>()
        collect(value, prefix: [], schemaPath: [], into: &result)
        return result
    }

    private func collect(_ value: TestJSON, prefix: FieldPath, schemaPath: [String], into result: inout Set<FieldPath>) {
        switch value {
        case .object(let members):
            if members.isEmpty {
                if !prefix.isEmpty { result.insert(prefix) }
                return
            }
            for (name, member) in members {
                collect(member, prefix: prefix + [.field(name)], schemaPath: schemaPath + [name], into: &result)
            }
        case .array(let elements):
            switch effectiveListKind(elements, schemaPath: schemaPath) {
            case .atomic:
                result.insert(prefix)
            case .set:
                if elements.isEmpty { result.insert(prefix) }
                for element in elements { result.insert(prefix + [.value(element)]) }
            case .map(let keys):
                if elements.isEmpty { result.insert(prefix) }
                for element in elements {
                    let path = prefix + [.key(Self.keyObject(element, keys))]
                    result.insert(path)
                    collect(element, prefix: path, schemaPath: schemaPath + ["[]"], into: &result)
                }
            }
        default:
            if !prefix.isEmpty { result.insert(prefix) }
        }
    }

    /// The declared list kind, downgraded to atomic when the elements do not fit it (non-scalars in a set, elements
    /// without key fields or with duplicate keys in a map), so tracking never loses data.
    func effectiveListKind(_ elements: [TestJSON], schemaPath: [String]) -> ListKind {
        let declared = info.listKind(at: schemaPath)
        switch declared {
        case .atomic:
            return .atomic
        case .set:
            let scalars = elements.allSatisfy { $0.objectValue == nil && $0.arrayValue == nil }
            return scalars && Set(elements).count == elements.count ? .set : .atomic
        case .map(let keys):
            var seen = Set<TestJSON>()
            for element in elements {
                guard let members = element.objectValue, keys.contains(where: { members[$0] != nil }) else {
                    return .atomic
                }
                guard seen.insert(Self.keyObject(element, keys)).inserted else { return .atomic }
            }
            return declared
        }
    }

    static func keyObject(_ element: TestJSON, _ keys: [String]) -> TestJSON {
        var key: [String: TestJSON] = [:]
        for name in keys { if let value = element[name] { key[name] = value } }
        return .object(key)
    }

    static func matches(_ element: TestJSON, key: TestJSON) -> Bool {
        guard let members = key.objectValue else { return false }
        return members.allSatisfy { element[$0.key] == $0.value }
    }

    // MARK: Access by path

    static func value(at path: FieldPath, in root: TestJSON?) -> TestJSON? {
        var current = root
        for element in path {
            guard let node = current else { return nil }
            switch element {
            case .field(let name):
                current = node[name]
            case .key(let key):
                current = node.arrayValue?.first { matches($0, key: key) }
            case .value(let value):
                current = (node.arrayValue?.contains(value) ?? false) ? value : nil
            }
        }
        return current
    }

    /// The value without what `path` points at; `nil` when `path` is empty (the value itself is removed).
    static func removing(_ path: ArraySlice<PathElement>, from value: TestJSON) -> TestJSON? {
        guard let first = path.first else { return nil }
        let rest = path.dropFirst()
        switch (first, value) {
        case (.field(let name), .object(var members)):
            guard let child = members[name] else { return value }
            members[name] = removing(rest, from: child)
            return .object(members)
        case (.key(let key), .array(var elements)):
            guard let index = elements.firstIndex(where: { matches($0, key: key) }) else { return value }
            if let remaining = removing(rest, from: elements[index]) {
                elements[index] = remaining
            } else {
                elements.remove(at: index)
            }
            return .array(elements)
        case (.value(let scalar), .array(let elements)):
            guard rest.isEmpty else { return value }
            return .array(elements.filter { $0 != scalar })
        default:
            return value
        }
    }

    // MARK: fieldsV1

    /// The `fieldsV1` trie of the real API server: `f:<field>`, `k:<key JSON>`, `v:<value JSON>`, and `.` for an
    /// owned node that also has owned children.
    static func fieldsV1(_ paths: Set<FieldPath>) -> TestJSON {
        var root = TrieNode()
        for path in paths { root.insert(path[...]) }
        return root.rendered
    }

    private struct TrieNode {
        var owned = false
        var children: [String: TrieNode] = [:]

        mutating func insert(_ path: ArraySlice<PathElement>) {
            guard let first = path.first else {
                owned = true
                return
            }
            let name: String
            switch first {
            case .field(let field): name = "f:" + field
            case .key(let key): name = "k:" + key.jsonString()
            case .value(let value): name = "v:" + value.jsonString()
            }
            children[name, default: TrieNode()].insert(path.dropFirst())
        }

        var rendered: TestJSON {
            var members = children.mapValues(\.rendered)
            if owned && !children.isEmpty { members["."] = .object([:]) }
            return .object(members)
        }
    }
}
