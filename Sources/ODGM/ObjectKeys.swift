import OaaSCore
import Storage

/// The key layout of object data in the node's `objects` database.
///
/// Every record of an object starts with the object prefix
/// `class\0 · partition(u32) · idTag · id`, where the id is a big-endian u64 (tag 1) or a
/// terminated string (tag 2); numeric ids therefore sort before string ids, and each kind in its
/// natural order. After the prefix comes the record tag: 0 for the single metadata record, 1 plus a
/// big-endian u32 for a numeric entry, 2 plus the exact key bytes for a string entry. An object's
/// records are adjacent, numeric entries precede string entries, and no object prefix is a prefix
/// of another object's keys, so cursors and prefix scans never skip or repeat.
enum ObjectKeys {
    static let numericIdTag: UInt8 = 1
    static let stringIdTag: UInt8 = 2
    static let metaTag: UInt8 = 0
    static let numericEntryTag: UInt8 = 1
    static let stringEntryTag: UInt8 = 2

    /// `class\0 · partition`: the prefix of every record of one partition.
    static func partitionPrefix(collection: String, partition: UInt32) -> [UInt8] {
        var encoder = KeyEncoder()
        encoder.append(collection)
        encoder.append(partition)
        return encoder.bytes
    }

    static func objectPrefix(partitionPrefix: [UInt8], id: ObjectID) -> [UInt8] {
        var encoder = KeyEncoder(prefix: partitionPrefix)
        switch id {
        case .numeric(let value):
            encoder.append(tag: numericIdTag)
            encoder.append(value)
        case .string(let value):
            encoder.append(tag: stringIdTag)
            encoder.append(value)
        }
        return encoder.bytes
    }

    static func meta(_ objectPrefix: [UInt8]) -> [UInt8] {
        objectPrefix + [metaTag]
    }

    static func entry(_ objectPrefix: [UInt8], _ key: EntryKey) -> [UInt8] {
        var encoder = KeyEncoder(prefix: objectPrefix)
        switch key {
        case .numeric(let value):
            encoder.append(tag: numericEntryTag)
            encoder.append(value)
        case .string(let value):
            encoder.append(tag: stringEntryTag)
            encoder.append(unterminated: value.utf8)
        }
        return encoder.bytes
    }

    /// Decodes the entry key of a record of the object with this prefix; nil for the metadata record.
    static func entryKey(of key: UnsafeRawBufferPointer, objectPrefixLength: Int) -> EntryKey? {
        var decoder = KeyDecoder(key, offset: objectPrefixLength)
        switch decoder.readTag() {
        case numericEntryTag: return decoder.readUInt32().map { .numeric($0) }
        case stringEntryTag: return .string(decoder.readRemainingString())
        default: return nil
        }
    }

    /// Decodes the object id and record tag of a key inside a partition.
    static func objectID(of key: UnsafeRawBufferPointer, partitionPrefixLength: Int) -> (id: ObjectID, recordTag: UInt8, prefixLength: Int)? {
        var decoder = KeyDecoder(key, offset: partitionPrefixLength)
        let id: ObjectID
        switch decoder.readTag() {
        case numericIdTag:
            guard let value = decoder.readUInt64() else { return nil }
            id = .numeric(value)
        case stringIdTag:
            guard let value = decoder.readString() else { return nil }
            id = .string(value)
        default:
            return nil
        }
        let prefixLength = decoder.offset
        guard let tag = decoder.readTag() else { return nil }
        return (id, tag, prefixLength)
    }

    /// Partition live-object counter key in the `counters` database.
    static func counter(partitionPrefix: [UInt8]) -> [UInt8] {
        partitionPrefix
    }
}
