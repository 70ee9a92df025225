import Foundation
import OaaSCore
import OaaSProto

/// The list bodies of spec §8.2. Ids and keys are strings (decimal for numeric ones); versions and
/// counts are JSON numbers; property names become snake_case; `next_cursor` is base64url without padding and omitted on the last page.
enum ListJSON {
    struct ObjectItem: Encodable {
        let objectId: String
        let idKind: String
        let version: UInt64
        let entryCount: UInt64
    }

    struct ObjectList: Encodable {
        let objects: [ObjectItem]
        let nextCursor: String?
    }

    struct Value: Encodable {
        /// Standard base64 with padding, as in the JSON mapping of `bytes` (spec §8.5).
        let data: String
        /// The enum as an integer (spec §8.5).
        let type: Int
    }

    struct EntryItem: Encodable {
        let key: String
        let keyKind: String
        let value: Value
    }

    struct EntryList: Encodable {
        let entries: [EntryItem]
        let version: UInt64
        let nextCursor: String?
    }

    static func objects(_ envelopes: [Oprc_ObjectMetaEnvelope]) throws(OaaSError) -> Data {
        let items = envelopes.map { envelope in
            let isString = envelope.hasObjectIDStr
            return ObjectItem(
                objectId: isString ? envelope.objectIDStr : String(envelope.objectID),
                idKind: isString ? "string" : "numeric",
                version: envelope.version,
                entryCount: envelope.entryCount
            )
        }
        let cursor = envelopes.last(where: \.hasNextCursor).map { Base64URL.encode($0.nextCursor) }
        return try encode(ObjectList(objects: items, nextCursor: cursor))
    }

    static func entries(_ page: ValuePage) throws(OaaSError) -> Data {
        let items = page.entries.map { envelope in
            let isNumeric = envelope.hasNumericKey
            return EntryItem(
                key: isNumeric ? String(envelope.numericKey) : envelope.key,
                keyKind: isNumeric ? "numeric" : "string",
                value: Value(data: envelope.value.data.base64EncodedString(), type: envelope.value.type.rawValue)
            )
        }
        let cursor = page.entries.last(where: \.hasNextCursor).map { Base64URL.encode($0.nextCursor) }
        return try encode(EntryList(entries: items, version: page.version, nextCursor: cursor))
    }

    private static func encode(_ value: some Encodable) throws(OaaSError) -> Data {
        do {
            let encoder = JSONCoding.encoder
            encoder.keyEncodingStrategy = .convertToSnakeCase
            return try encoder.encode(value)
        } catch {
            throw OaaSError(.internal, "could not encode the list: \(error)")
        }
    }
}
