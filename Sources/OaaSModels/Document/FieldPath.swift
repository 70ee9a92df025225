/// The path of a field inside a document, rendered the way errors name fields (spec §0):
/// `classes[1].function_bindings[0].function_key`, `env_templates["oaas-1"]`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public private(set) var description: String

    public static let root = FieldPath(description: "")

    private init(description: String) { self.description = description }

    public var isRoot: Bool { description.isEmpty }

    /// A named field of an object.
    public func key(_ name: String) -> FieldPath {
        FieldPath(description: isRoot ? name : description + "." + name)
    }

    /// An element of a list.
    public func index(_ position: Int) -> FieldPath {
        FieldPath(description: description + "[\(position)]")
    }

    /// An entry of a map: the key is quoted because map keys may contain dots or dashes.
    public func mapKey(_ name: String) -> FieldPath {
        var escaped = ""
        for character in name {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            default: escaped.append(character)
            }
        }
        return FieldPath(description: description + "[\"" + escaped + "\"]")
    }
}
