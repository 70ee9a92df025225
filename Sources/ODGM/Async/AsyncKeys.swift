import Storage

/// Where one async invocation lives: its partition and its id (unique within the partition).
struct AsyncCallKey: Sendable, Hashable {
    let collection: String
    let partition: UInt32
    let invocationID: String
}

/// The key layout of async invocations (data-plane spec §5.5) in two databases of an environment.
///
/// `async_calls` is keyed under the partition prefix `class\0 · partition(u32)`, so dropping a
/// collection's data removes its calls with one prefix delete:
/// * `P · 0x00` → the partition's count of unfinished (PENDING or RUNNING) calls, a u64;
/// * `P · 0x01 · id` → the record (`AsyncRecord`).
///
/// `async_index` is ordered by time first, so the executor and the purger each read one cursor
/// from the start instead of visiting every partition:
/// * `0x00` → the environment's count of unfinished calls (the pending gauge);
/// * `0x01 · submitted_at_ms(u64) · P · id` → run queue, present while the call is unfinished;
/// * `0x02 · expires_at_ms(u64) · P · id` → expiry index, present while a DONE record is kept.
/// Invocation ids are `[A-Za-z0-9_-]`, so the unterminated id at the end never contains 0x00.
enum AsyncKeys {
    static let counterTag: UInt8 = 0
    static let recordTag: UInt8 = 1
    static let totalKey: [UInt8] = [0]
    static let queueTag: UInt8 = 1
    static let expiryTag: UInt8 = 2

    static func partitionCounter(_ key: AsyncCallKey) -> [UInt8] {
        ObjectKeys.partitionPrefix(collection: key.collection, partition: key.partition) + [counterTag]
    }

    static func record(_ key: AsyncCallKey) -> [UInt8] {
        var encoder = KeyEncoder(prefix: ObjectKeys.partitionPrefix(collection: key.collection, partition: key.partition))
        encoder.append(tag: recordTag)
        encoder.append(unterminated: key.invocationID.utf8)
        return encoder.bytes
    }

    static func queue(_ key: AsyncCallKey, submittedAtMs: UInt64) -> [UInt8] {
        index(queueTag, time: submittedAtMs, key)
    }

    static func expiry(_ key: AsyncCallKey, expiresAtMs: UInt64) -> [UInt8] {
        index(expiryTag, time: expiresAtMs, key)
    }

    private static func index(_ tag: UInt8, time: UInt64, _ key: AsyncCallKey) -> [UInt8] {
        var encoder = KeyEncoder(capacity: 32 + key.collection.utf8.count + key.invocationID.utf8.count)
        encoder.append(tag: tag)
        encoder.append(time)
        encoder.append(key.collection)
        encoder.append(key.partition)
        encoder.append(unterminated: key.invocationID.utf8)
        return encoder.bytes
    }

    /// Decodes a queue or expiry entry; nil for a key of another shape.
    static func decodeIndex(_ bytes: UnsafeRawBufferPointer) -> (tag: UInt8, time: UInt64, key: AsyncCallKey)? {
        var decoder = KeyDecoder(bytes)
        guard let tag = decoder.readTag(), tag == queueTag || tag == expiryTag,
              let time = decoder.readUInt64(),
              let collection = decoder.readString(),
              let partition = decoder.readUInt32() else { return nil }
        let id = decoder.readRemainingString()
        guard !id.isEmpty else { return nil }
        return (tag, time, AsyncCallKey(collection: collection, partition: partition, invocationID: id))
    }
}
