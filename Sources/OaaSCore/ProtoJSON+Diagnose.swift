import Foundation
import SwiftProtobuf

/// Input diagnostics. SwiftProtobuf's JSON errors do not say where they happened, so after a failed
/// decode the document is walked against the message schema: structure and unknown names are checked
/// here, and each leaf value is re-decoded alone (`{"field": value}`) so that SwiftProtobuf stays the
/// single judge of what a valid value is. This runs only on the error path.
extension ProtoJSON {
    static func fieldProblem(_ path: String, _ detail: String) -> String {
        path.isEmpty ? detail : "invalid value for field '\(path)': \(detail)"
    }

    static func diagnose(_ node: JSONNode, as type: any Message.Type, decodingError: any Error) -> OaaSError {
        if let problem = locate(node, as: type, path: "") {
            return OaaSError(.invalidArgument, problem)
        }
        return OaaSError(.invalidArgument, "invalid JSON for \(type.protoMessageName): \(describe(decodingError))")
    }

    /// The first problem in `node` read as a `type` message at `path`, or nil if none is found.
    private static func locate(_ node: JSONNode, as type: any Message.Type, path: String) -> String? {
        if MessageSchema.hasSpecialJSON(type) {
            return check(type, node).map { fieldProblem(path, detail($0, expected: type.protoMessageName, got: node)) }
        }
        guard case .object(let members) = node else {
            return fieldProblem(path, "expected a JSON object (\(type.protoMessageName)), got \(node.kindName)")
        }
        let schema = MessageSchema.of(type)
        for member in members {
            let memberPath = ProtoJSONPath.member(path, member.key)
            guard let field = schema.field(named: member.key) else {
                return "unknown field '\(memberPath)'"
            }
            if let problem = locate(member, field: field, in: type, path: memberPath) {
                return problem
            }
        }
        return nil
    }

    private static func locate(_ member: JSONNode.Member, field: MessageSchema.Field, in type: any Message.Type, path: String) -> String? {
        let value = member.value
        // A whole value checked alone inside its parent message.
        func checkInParent(_ candidate: JSONNode, at path: String, got: JSONNode) -> String? {
            check(type, .object([JSONNode.Member(key: member.key, value: candidate)]))
                .map { fieldProblem(path, detail($0, expected: field.typeName, got: got)) }
        }
        if value == .null {
            return checkInParent(value, at: path, got: value)
        }
        switch field.shape {
        case .implicit, .optionalScalar:
            return checkInParent(value, at: path, got: value)

        case .message(let nested):
            return locate(value, as: nested, path: path)

        case .repeated(let element):
            guard case .array(let elements) = value else {
                return fieldProblem(path, "expected a JSON array, got \(value.kindName)")
            }
            for (position, item) in elements.enumerated() {
                let itemPath = ProtoJSONPath.element(path, position)
                let problem = if let element, item != .null {
                    locate(item, as: element, path: itemPath)
                } else {
                    checkInParent(.array([item]), at: itemPath, got: item)
                }
                if let problem { return problem }
            }
            return nil

        case .map(let keyType, let placeholder, let valueType):
            guard case .object(let entries) = value else {
                return fieldProblem(path, "expected a JSON object (map), got \(value.kindName)")
            }
            for entry in entries {
                let entryPath = ProtoJSONPath.member(path, entry.key)
                let keyOnly = JSONNode.object([JSONNode.Member(key: entry.key, value: placeholder)])
                if check(type, .object([JSONNode.Member(key: member.key, value: keyOnly)])) != nil {
                    return fieldProblem(entryPath, "map key must be a \(keyType)")
                }
                let problem = if let valueType, entry.value != .null {
                    locate(entry.value, as: valueType, path: entryPath)
                } else {
                    checkInParent(.object([entry]), at: entryPath, got: entry.value)
                }
                if let problem { return problem }
            }
            return nil
        }
    }

    /// Decodes `node` alone as a `type` message; the error if SwiftProtobuf rejects it.
    private static func check<M: Message>(_ type: M.Type, _ node: JSONNode) -> (any Error)? {
        do {
            _ = try M(jsonUTF8Data: node.serialized, options: decodingOptions)
            return nil
        } catch {
            return error
        }
    }

    private static func detail(_ error: any Error, expected: String, got: JSONNode) -> String {
        switch error as? JSONDecodingError {
        case .numberRange?:
            "\(snippet(got)) is out of range for \(expected)"
        case .unrecognizedEnumValue?:
            "\(snippet(got)) is not a value of \(expected)"
        case .unknownField(let name)?:
            "unknown field '\(name)'"
        default:
            if expected == "bytes", case .string = got {
                "\(snippet(got)) is not valid base64"
            } else {
                "expected \(expected), got \(snippet(got))"
            }
        }
    }

    /// The value as JSON text, shortened so that a large value cannot flood an error message.
    private static func snippet(_ node: JSONNode) -> String {
        let text = String(decoding: node.serialized, as: UTF8.self)
        return text.count <= 48 ? text : String(text.prefix(45)) + "..."
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? JSONDecodingError else { return "\(error)" }
        return switch error {
        case .unknownField(let name): "unknown field '\(name)'"
        case .conflictingOneOf: "more than one field of a oneof is set"
        case .messageDepthLimit: "messages nested too deeply"
        case .truncated: "unexpected end of input"
        case .trailingGarbage: "unexpected data after the JSON value"
        case .invalidUTF8: "text is not valid UTF-8"
        default: "\(error)"
        }
    }
}
