import Foundation

/// RFC 7386 JSON merge patch and RFC 6902 JSON patch.
enum Patches {
    /// Objects merge recursively, `null` deletes a member, anything else (arrays included) replaces.
    static func mergePatch(_ target: TestJSON?, _ patch: TestJSON) -> TestJSON {
        guard case .object(let patchMembers) = patch else { return patch }
        var members = target?.objectValue ?? [:]
        for (name, value) in patchMembers {
            if value == .null {
                members[name] = nil
            } else {
                members[name] = mergePatch(members[name], value)
            }
        }
        return .object(members)
    }

    /// Applies a JSON patch document. A malformed document is a 400; an operation that cannot be applied (missing
    /// path, failed `test`) is a 422, as on the real server.
    static func jsonPatch(_ document: TestJSON, _ patch: TestJSON) throws(APIError) -> TestJSON {
        guard let operations = patch.arrayValue else {
            throw .badRequest("json patch must be an array of operations")
        }
        var document = document
        for (index, operation) in operations.enumerated() {
            guard let op = operation["op"]?.stringValue, let pathText = operation["path"]?.stringValue else {
                throw .badRequest("json patch operation \(index) needs \"op\" and \"path\"")
            }
            let path = try pointer(pathText)
            switch op {
            case "add":
                guard let value = operation["value"] else { throw .badRequest("operation \(index): missing value") }
                document = try add(value, at: path[...], in: document)
            case "remove":
                document = try remove(path[...], from: document)
            case "replace":
                guard let value = operation["value"] else { throw .badRequest("operation \(index): missing value") }
                guard get(path[...], in: document) != nil else {
                    throw .unprocessable("replace operation does not apply: doc is missing path: \(pathText)")
                }
                document = path.isEmpty ? value : try add(value, at: path[...], in: remove(path[...], from: document))
            case "move", "copy":
                guard let fromText = operation["from"]?.stringValue else {
                    throw .badRequest("operation \(index): missing from")
                }
                let from = try pointer(fromText)
                guard let value = get(from[...], in: document) else {
                    throw .unprocessable("\(op) operation does not apply: doc is missing from path: \(fromText)")
                }
                if op == "move" { document = try remove(from[...], from: document) }
                document = try add(value, at: path[...], in: document)
            case "test":
                guard let expected = operation["value"] else { throw .badRequest("operation \(index): missing value") }
                guard get(path[...], in: document) == expected else {
                    throw .unprocessable("testing value \(pathText) failed: test failed")
                }
            default:
                throw .badRequest("unsupported json patch operation \(op)")
            }
        }
        return document
    }

    /// JSON Pointer tokens (`~1` is `/`, `~0` is `~`).
    static func pointer(_ text: String) throws(APIError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw .badRequest("json pointer \(text) must start with /") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ path: ArraySlice<String>, in value: TestJSON) -> TestJSON? {
        guard let token = path.first else { return value }
        switch value {
        case .object(let members):
            return members[token].flatMap { get(path.dropFirst(), in: $0) }
        case .array(let elements):
            guard let index = arrayIndex(token), elements.indices.contains(index) else { return nil }
            return get(path.dropFirst(), in: elements[index])
        default:
            return nil
        }
    }

    private static func add(
        _ newValue: TestJSON, at path: ArraySlice<String>, in value: TestJSON
    ) throws(APIError) -> TestJSON {
        guard let token = path.first else { return newValue }
        let rest = path.dropFirst()
        switch value {
        case .object(var members):
            if rest.isEmpty {
                members[token] = newValue
            } else {
                guard let child = members[token] else {
                    throw .unprocessable("add operation does not apply: doc is missing path: /\(path.joined(separator: "/"))")
                }
                members[token] = try add(newValue, at: rest, in: child)
            }
            return .object(members)
        case .array(var elements):
            if rest.isEmpty {
                if token == "-" {
                    elements.append(newValue)
                } else if let index = arrayIndex(token), index <= elements.count {
                    elements.insert(newValue, at: index)
                } else {
                    throw .unprocessable("add operation does not apply: index \(token) out of range")
                }
            } else {
                guard let index = arrayIndex(token), elements.indices.contains(index) else {
                    throw .unprocessable("add operation does not apply: index \(token) out of range")
                }
                elements[index] = try add(newValue, at: rest, in: elements[index])
            }
            return .array(elements)
        default:
            throw .unprocessable("add operation does not apply: /\(path.joined(separator: "/")) is not a container")
        }
    }

    private static func remove(_ path: ArraySlice<String>, from value: TestJSON) throws(APIError) -> TestJSON {
        guard let token = path.first else {
            throw .unprocessable("remove operation does not apply: cannot remove the whole document")
        }
        let rest = path.dropFirst()
        switch value {
        case .object(var members):
            guard let child = members[token] else {
                throw .unprocessable("remove operation does not apply: doc is missing path: \(token)")
            }
            members[token] = rest.isEmpty ? nil : try remove(rest, from: child)
            return .object(members)
        case .array(var elements):
            guard let index = arrayIndex(token), elements.indices.contains(index) else {
                throw .unprocessable("remove operation does not apply: index \(token) out of range")
            }
            if rest.isEmpty {
                elements.remove(at: index)
            } else {
                elements[index] = try remove(rest, from: elements[index])
            }
            return .array(elements)
        default:
            throw .unprocessable("remove operation does not apply: \(token) is not in a container")
        }
    }

    private static func arrayIndex(_ token: String) -> Int? {
        // RFC 6901: no leading zeros, no signs.
        guard !token.isEmpty, token.allSatisfy(\.isASCIIDigit), token == "0" || !token.hasPrefix("0") else {
            return nil
        }
        return Int(token)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
