import OaaSCore
import Storage

/// The key layout of the trigger outbox (`trigger_outbox` database of each storage environment).
///
/// Keys start with the partition prefix `P = class\0 · partition(u32)` used for objects, so dropping
/// a collection's data removes its deliveries with one prefix delete:
/// * `P · 0x00` → the partition's outbox state: pending deliveries and the next sequence number;
/// * `P · 0x01 · idTag · id · seq(u64)` → one delivery (`TriggerDelivery`), where `idTag · id` is
///   encoded as in ``ObjectKeys`` (so no object's part is a prefix of another's).
///
/// `seq` grows with every commit that adds deliveries to the partition, and mutations of one
/// object are serialized, so one object's deliveries sort in commit order: version order, with the
/// deliveries of one mutation in change order. A scan visits partitions, then objects, each
/// object's deliveries oldest first.
enum OutboxKeys {
    static let stateTag: UInt8 = 0
    static let deliveryTag: UInt8 = 1

    static func state(partitionPrefix: [UInt8]) -> [UInt8] {
        partitionPrefix + [stateTag]
    }

    /// The prefix of every delivery of one object.
    static func object(partitionPrefix: [UInt8], id: ObjectID) -> [UInt8] {
        ObjectKeys.objectPrefix(partitionPrefix: partitionPrefix + [deliveryTag], id: id)
    }

    static func delivery(objectPrefix: [UInt8], seq: UInt64) -> [UInt8] {
        var encoder = KeyEncoder(prefix: objectPrefix)
        encoder.append(seq)
        return encoder.bytes
    }

    /// A key that sorts after every delivery of the object with this prefix (seq is 8 bytes).
    static func pastObject(_ objectPrefix: [UInt8]) -> [UInt8] {
        objectPrefix + [UInt8](repeating: 0xFF, count: 9)
    }

    enum Kind: Equatable {
        case state
        /// A delivery; the object prefix is the key without its last 8 bytes.
        case delivery(objectPrefixLength: Int)
    }

    /// Class, partition and kind of an outbox key; nil for a key of another shape.
    static func decode(_ key: UnsafeRawBufferPointer) -> (collection: String, partition: UInt32, kind: Kind)? {
        var decoder = KeyDecoder(key)
        guard let collection = decoder.readString(), let partition = decoder.readUInt32() else { return nil }
        switch decoder.readTag() {
        case stateTag:
            return decoder.isAtEnd ? (collection, partition, .state) : nil
        case deliveryTag:
            let prefixLength = key.count - 8
            guard prefixLength > decoder.offset + 1 else { return nil }
            return (collection, partition, .delivery(objectPrefixLength: prefixLength))
        default:
            return nil
        }
    }
}

/// The outbox state of one partition.
struct OutboxState: Sendable, Equatable {
    var pending: UInt64 = 0
    var nextSeq: UInt64 = 0

    func encoded() -> [UInt8] {
        var writer = ValueWriter()
        writer.append(pending)
        writer.append(nextSeq)
        return writer.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> OutboxState {
        var reader = ValueReader(bytes)
        return OutboxState(pending: reader.readUInt64() ?? 0, nextSeq: reader.readUInt64() ?? 0)
    }
}
