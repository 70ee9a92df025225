import OaaSCore
import OaaSProto
import Storage

/// A run-queue entry: the call and the submission time that orders it.
struct QueuedCall: Sendable, Hashable {
    let key: AsyncCallKey
    let submittedAtMs: UInt64
}

/// Async invocation records in one storage environment (see `AsyncKeys` for the layout).
///
/// Every state change is one write through the environment's group-committing writer and returns
/// once durable. Write bodies compute everything from the transaction (the writer may run a body
/// twice) and throw only before writing. Reads use their own snapshot.
struct AsyncCallStore: Sendable {
    let dbs: ObjectDatabases

    /// A stable identity of the environment, to visit each one once.
    var environmentID: ObjectIdentifier { ObjectIdentifier(dbs.environment) }

    func record(_ key: AsyncCallKey) throws -> AsyncRecord? {
        try dbs.environment.read { txn in try load(txn, key) }
    }

    /// Records a new call unless its id is known already (then the stored record is returned and
    /// nothing is written). Refuses a call that would put more than `maxPending` unfinished calls
    /// in the partition. An expired result no longer counts as known (GetResult no longer finds it).
    func submit(_ key: AsyncCallKey, _ record: AsyncRecord, maxPending: Int) async throws -> (record: AsyncRecord, created: Bool) {
        let encoded = try record.encoded()
        return try await dbs.writer.write { [self] txn in
            let existing = try load(txn, key)
            if let existing, existing.state != .done || existing.expiresAtMs > record.submittedAtMs {
                return (existing, false)
            }
            let counterKey = AsyncKeys.partitionCounter(key)
            let pending = try counter(txn, dbs.asyncCalls, counterKey)
            guard pending < UInt64(maxPending) else {
                throw OaaSError(.resourceExhausted,
                                "too many async calls: \(pending) pending in \(key.collection)/\(key.partition) (ODGM_ASYNC_MAX_PENDING \(maxPending))")
            }
            if let existing {
                try txn.delete(dbs.asyncIndex, AsyncKeys.expiry(key, expiresAtMs: existing.expiresAtMs))
            }
            try txn.put(dbs.asyncCalls, AsyncKeys.record(key), encoded)
            try txn.put(dbs.asyncIndex, AsyncKeys.queue(key, submittedAtMs: record.submittedAtMs), [])
            try store(txn, dbs.asyncCalls, counterKey, pending + 1)
            try adjustTotal(txn, by: 1)
            return (record, true)
        }
    }

    /// Unfinished calls in submission order, at most `limit` (a bounded read).
    func queued(limit: Int) throws -> [QueuedCall] {
        guard limit > 0 else { return [] }
        return try dbs.environment.read { txn in
            var calls: [QueuedCall] = []
            try txn.withCursor(dbs.asyncIndex) { cursor in
                var entry = try cursor.seek(atOrAfter: [AsyncKeys.queueTag])
                while let current = entry, calls.count < limit, current.key.first == AsyncKeys.queueTag {
                    if let decoded = AsyncKeys.decodeIndex(current.key) {
                        calls.append(QueuedCall(key: decoded.key, submittedAtMs: decoded.time))
                    }
                    entry = try cursor.next()
                }
            }
            return calls
        }
    }

    /// Marks a queued call RUNNING and returns it; nil when it is gone (its collection's data was
    /// dropped, or it was unreadable) or already DONE, in which case its queue entry is removed.
    func begin(_ call: QueuedCall, nowMs: UInt64) async throws -> AsyncRecord? {
        try await dbs.writer.write { [self] txn -> AsyncRecord? in
            let queueKey = AsyncKeys.queue(call.key, submittedAtMs: call.submittedAtMs)
            var stored: AsyncRecord?
            do {
                stored = try load(txn, call.key)
            } catch is CorruptRecord {
                // One unreadable record must not wedge the queue: drop it (the caller logs it).
                try txn.delete(dbs.asyncCalls, AsyncKeys.record(call.key))
                try adjustPartition(txn, call.key, by: -1)
            }
            guard var record = stored, record.state != .done else {
                if try txn.delete(dbs.asyncIndex, queueKey) { try adjustTotal(txn, by: -1) }
                return nil
            }
            record.state = .running
            record.startedAtMs = nowMs
            record.runs += 1
            try txn.put(dbs.asyncCalls, AsyncKeys.record(call.key), try record.encoded())
            return record
        }
    }

    /// Stores the outcome of a run as DONE, readable until `nowMs + ttlMs`; false if the record is
    /// gone or was finished already.
    @discardableResult
    func finish(_ key: AsyncCallKey, response: Oprc_InvocationResponse, nowMs: UInt64, ttlMs: UInt64) async throws -> Bool {
        try await dbs.writer.write { [self] txn -> Bool in
            guard var record = try load(txn, key), record.state != .done else { return false }
            let (expires, overflow) = nowMs.addingReportingOverflow(ttlMs)
            record.state = .done
            record.response = response
            record.finishedAtMs = nowMs
            record.expiresAtMs = overflow ? .max : expires
            try txn.put(dbs.asyncCalls, AsyncKeys.record(key), try record.encoded())
            try txn.delete(dbs.asyncIndex, AsyncKeys.queue(key, submittedAtMs: record.submittedAtMs))
            try txn.put(dbs.asyncIndex, AsyncKeys.expiry(key, expiresAtMs: record.expiresAtMs), [])
            try adjustPartition(txn, key, by: -1)
            try adjustTotal(txn, by: -1)
            return true
        }
    }

    /// Unfinished calls in this environment.
    func pendingTotal() throws -> UInt64 {
        try dbs.environment.read { txn in try counter(txn, dbs.asyncIndex, AsyncKeys.totalKey) }
    }

    // MARK: Helpers

    func load(_ txn: some TransactionProtocol, _ key: AsyncCallKey) throws -> AsyncRecord? {
        try txn.withValue(dbs.asyncCalls, AsyncKeys.record(key)) { try AsyncRecord.decode($0) }
    }

    private func adjustPartition(_ txn: WriteTransaction, _ key: AsyncCallKey, by delta: Int) throws {
        try adjust(txn, dbs.asyncCalls, AsyncKeys.partitionCounter(key), by: delta)
    }

    private func adjustTotal(_ txn: WriteTransaction, by delta: Int) throws {
        try adjust(txn, dbs.asyncIndex, AsyncKeys.totalKey, by: delta)
    }

    /// Counters saturate at zero: after a collection's data is dropped, its late decrements are no-ops.
    private func adjust(_ txn: WriteTransaction, _ db: Database, _ key: [UInt8], by delta: Int) throws {
        let current = try counter(txn, db, key)
        let next = delta >= 0 ? current + UInt64(delta) : current - min(current, UInt64(-delta))
        try store(txn, db, key, next)
    }

    private func counter(_ txn: some TransactionProtocol, _ db: Database, _ key: [UInt8]) throws -> UInt64 {
        try txn.withValue(db, key) { bytes -> UInt64 in
            var reader = ValueReader(bytes)
            return reader.readUInt64() ?? 0
        } ?? 0
    }

    private func store(_ txn: WriteTransaction, _ db: Database, _ key: [UInt8], _ value: UInt64) throws {
        var writer = ValueWriter()
        writer.append(value)
        try txn.put(db, key, writer.bytes)
    }
}
