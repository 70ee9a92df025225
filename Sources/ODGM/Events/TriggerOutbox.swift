import OaaSCore
import Storage

/// A delivery read back from the outbox.
struct OutboxEntry: Sendable {
    let key: [UInt8]
    /// The object's delivery prefix: deliveries with the same one run one at a time, in order.
    let objectPrefix: [UInt8]
    let collection: String
    let partition: UInt32
    /// The record, or why it could not be read.
    let delivery: Result<TriggerDelivery, CorruptRecord>
}

/// The trigger outbox of one storage environment (layout in ``OutboxKeys``).
///
/// Deliveries are appended inside the writer transaction of the mutation that caused them (spec
/// §6.4: atomic with the mutation) and removed once the dispatcher is done with them, each through
/// the environment's group-committing writer.
struct TriggerOutbox: Sendable {
    let dbs: ObjectDatabases

    /// A stable identity of the environment, to visit each one once.
    var environmentID: ObjectIdentifier { ObjectIdentifier(dbs.environment) }

    /// Appends one object's deliveries in `txn` and returns the partition's new pending count.
    /// With a `bound`, a partition that would then hold more than `bound` deliveries refuses with
    /// RESOURCE_EXHAUSTED, which aborts the whole mutation.
    func append(_ txn: WriteTransaction, partitionPrefix: [UInt8], id: ObjectID, _ deliveries: [TriggerDelivery],
                bound: Int?, shard: String) throws -> UInt64 {
        let stateKey = OutboxKeys.state(partitionPrefix: partitionPrefix)
        var state = try txn.withValue(dbs.outbox, stateKey) { OutboxState.decode($0) } ?? OutboxState()
        if let bound, state.pending + UInt64(deliveries.count) > UInt64(bound) {
            throw OaaSError(.resourceExhausted,
                            "trigger outbox of \(shard) is full: \(state.pending) pending, \(deliveries.count) more would exceed ODGM_EVENT_QUEUE_BOUND \(bound)")
        }
        let objectPrefix = OutboxKeys.object(partitionPrefix: partitionPrefix, id: id)
        for delivery in deliveries {
            try txn.put(dbs.outbox, OutboxKeys.delivery(objectPrefix: objectPrefix, seq: state.nextSeq), try delivery.encoded())
            state.nextSeq += 1
        }
        state.pending += UInt64(deliveries.count)
        try txn.put(dbs.outbox, stateKey, state.encoded())
        return state.pending
    }

    /// The oldest delivery of each object whose prefix is not in `busy`, at most `limit`, in key
    /// order starting at `start` and wrapping around, so that a scan that resumes where the last one
    /// stopped gives every object its turn.
    func heads(excluding busy: Set<[UInt8]>, limit: Int, from start: [UInt8]? = nil) throws -> [OutboxEntry] {
        guard limit > 0 else { return [] }
        return try dbs.environment.read { txn in
            var heads: [OutboxEntry] = []
            try txn.withCursor(dbs.outbox) { cursor in
                var entry = try start.map { try cursor.seek(atOrAfter: $0) } ?? cursor.first()
                var wrapped = start == nil
                while heads.count < limit {
                    guard let current = entry else {
                        if wrapped { break }
                        wrapped = true
                        entry = try cursor.first()
                        continue
                    }
                    if wrapped, let start, !current.key.lexicographicallyPrecedes(start) { break }
                    guard let decoded = OutboxKeys.decode(current.key),
                          case .delivery(let prefixLength) = decoded.kind else {
                        entry = try cursor.next()
                        continue
                    }
                    let objectPrefix = Array(current.key[0..<prefixLength])
                    if !busy.contains(objectPrefix) {
                        let delivery: Result<TriggerDelivery, CorruptRecord>
                        do {
                            delivery = .success(try TriggerDelivery.decode(current.value))
                        } catch {
                            delivery = .failure(CorruptRecord("unreadable trigger delivery: \(error)"))
                        }
                        heads.append(OutboxEntry(key: Array(current.key), objectPrefix: objectPrefix,
                                                 collection: decoded.collection, partition: decoded.partition, delivery: delivery))
                    }
                    entry = try cursor.seek(atOrAfter: OutboxKeys.pastObject(objectPrefix))
                }
            }
            return heads
        }
    }

    /// Removes a finished delivery; returns the partition's pending count afterwards.
    func remove(_ entry: OutboxEntry) async throws -> UInt64 {
        let stateKey = OutboxKeys.state(partitionPrefix: ObjectKeys.partitionPrefix(collection: entry.collection, partition: entry.partition))
        return try await dbs.writer.write { [dbs] txn in
            var state = try txn.withValue(dbs.outbox, stateKey) { OutboxState.decode($0) } ?? OutboxState()
            guard try txn.delete(dbs.outbox, entry.key) else { return state.pending }
            state.pending -= min(state.pending, 1)
            try txn.put(dbs.outbox, stateKey, state.encoded())
            return state.pending
        }
    }

    /// The pending count of every partition that ever had a delivery.
    func pendingCounts() throws -> [(collection: String, partition: UInt32, pending: UInt64)] {
        try dbs.environment.read { txn in
            var counts: [(collection: String, partition: UInt32, pending: UInt64)] = []
            try txn.withCursor(dbs.outbox) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    guard let decoded = OutboxKeys.decode(current.key) else {
                        entry = try cursor.next()
                        continue
                    }
                    let partitionPrefix = ObjectKeys.partitionPrefix(collection: decoded.collection, partition: decoded.partition)
                    if decoded.kind == .state {
                        counts.append((decoded.collection, decoded.partition, OutboxState.decode(current.value).pending))
                    }
                    // Past this partition's deliveries.
                    entry = try cursor.seek(atOrAfter: partitionPrefix + [OutboxKeys.deliveryTag + 1])
                }
            }
            return counts
        }
    }
}
