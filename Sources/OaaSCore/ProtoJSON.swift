import Foundation
import SwiftProtobuf

/// JSON mapping of `oprc` messages (data-plane spec §8.5), for REST bodies, trigger payloads and
/// `ODGM_COLLECTION`. Works for any generated message; SwiftProtobuf does the field coding and this
/// layer adds what its JSON mapping lacks: zero-valued implicit scalars on output, and error
/// messages that name the offending field on input.
public enum ProtoJSON {
    /// Spec 8.5 output: proto field names (snake_case), enums as integers, bytes as standard padded base64,
    /// u64/i64 as JSON numbers, map<uint32,...> keys as decimal strings, absent optional fields omitted,
    /// implicit (proto3 non-optional) scalars written even when zero ("type":0, false, "", 0).
    /// Empty repeated and map fields are omitted (as in the spec's ObjData example); readers treat a
    /// missing list or map as empty.
    public static func encode<M: SwiftProtobuf.Message>(_ message: M) throws -> Data {
        try outputNode(message).serialized
    }

    /// The same as a JSONSerialization-compatible object ([String: Any]), to embed in larger documents.
    /// Integers are `NSNumber`s holding an `Int64` or `UInt64`, so `JSONSerialization` writes u64 values exactly.
    public static func jsonObject<M: SwiftProtobuf.Message>(_ message: M) throws -> [String: Any] {
        let node = try outputNode(message)
        guard case .object = node, let object = node.foundationObject as? [String: Any] else {
            throw OaaSError(.internal, "JSON form of \(M.protoMessageName) is not an object")
        }
        return object
    }

    /// Lenient input: proto names AND lowerCamelCase names, enum names or integers, standard or URL-safe base64
    /// with or without padding, u64 as numbers or strings, missing maps/lists = empty. Unknown fields are an
    /// error that names the field. Any failure throws OaaSError(.invalidArgument, "<message naming the field/path>").
    public static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from data: Data) throws(OaaSError) -> M {
        do {
            return try M(jsonUTF8Data: data, options: decodingOptions)
        } catch {
            // Slow path, only on failure: find the field responsible.
            let node: JSONNode
            do {
                node = try JSONNodeParser.parse(data)
            } catch {
                throw OaaSError(.invalidArgument, "malformed JSON at byte \(error.offset): \(error.reason)")
            }
            throw diagnose(node, as: M.self, decodingError: error)
        }
    }

    /// Same, from an already-parsed JSON object (used for ODGM_COLLECTION arrays, where the caller reports "[0].shard_type").
    public static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, fromJSONObject object: Any) throws(OaaSError) -> M {
        let node: JSONNode
        do {
            node = try JSONNode(foundationObject: object)
        } catch {
            throw OaaSError(.invalidArgument, fieldProblem(error.path, error.reason))
        }
        do {
            return try M(jsonUTF8Data: node.serialized, options: decodingOptions)
        } catch {
            throw diagnose(node, as: M.self, decodingError: error)
        }
    }

    // MARK: - Output

    static let encodingOptions: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        options.alwaysPrintEnumsAsInts = true
        options.alwaysPrintInt64sAsNumbers = true
        // Stable map order, so equal messages give equal bytes.
        options.useDeterministicOrdering = true
        return options
    }()

    static let decodingOptions: JSONDecodingOptions = {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = false
        return options
    }()

    private static func outputNode<M: SwiftProtobuf.Message>(_ message: M) throws(OaaSError) -> JSONNode {
        let node: JSONNode
        do {
            node = try JSONNodeParser.parse(try message.jsonUTF8Data(options: encodingOptions))
        } catch {
            throw OaaSError(.internal, "JSON encoding of \(M.protoMessageName) failed: \(error)")
        }
        return withImplicitDefaults(node, as: M.self)
    }

    /// Adds the zero-valued implicit scalars SwiftProtobuf leaves out, recursing into nested messages,
    /// and orders members by field number.
    static func withImplicitDefaults(_ node: JSONNode, as type: any Message.Type) -> JSONNode {
        guard case .object(let members) = node, !MessageSchema.hasSpecialJSON(type) else { return node }
        let schema = MessageSchema.of(type)
        var remaining: [String: JSONNode] = [:]
        for member in members { remaining[member.key] = member.value }

        var result: [JSONNode.Member] = []
        result.reserveCapacity(schema.fields.count)
        for field in schema.fields {
            if let value = remaining.removeValue(forKey: field.protoName) {
                result.append(JSONNode.Member(key: field.protoName, value: withImplicitDefaults(value, shape: field.shape)))
            } else if case .implicit(let defaultValue) = field.shape {
                result.append(JSONNode.Member(key: field.protoName, value: defaultValue))
            }
        }
        // Anything the schema does not know is kept as SwiftProtobuf wrote it.
        for member in members where remaining[member.key] != nil {
            result.append(member)
        }
        return .object(result)
    }

    private static func withImplicitDefaults(_ node: JSONNode, shape: MessageSchema.Shape) -> JSONNode {
        switch (shape, node) {
        case (.message(let type), _):
            return withImplicitDefaults(node, as: type)
        case (.repeated(let element?), .array(let elements)):
            return .array(elements.map { withImplicitDefaults($0, as: element) })
        case (.map(_, _, let value?), .object(let entries)):
            return .object(entries.map { JSONNode.Member(key: $0.key, value: withImplicitDefaults($0.value, as: value)) })
        default:
            return node
        }
    }
}
