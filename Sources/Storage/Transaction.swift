import CLMDB

/// Operations shared by read-only and read-write transactions.
///
/// A transaction value is only valid inside the closure that received it; byte buffers it hands
/// out are valid until the transaction ends or the next write.
public protocol TransactionProtocol {
    var txn: OpaquePointer { get }
}

extension TransactionProtocol {
    /// Calls `body` with the stored value of `key`, or returns nil when the key is absent.
    public func withValue<T>(_ db: Database, _ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val()
            let rc = mdb_get(txn, db.dbi, &k, &v)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "mdb_get(\(db.name))")
            return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
    }

    /// A copy of the stored value of `key`.
    public func get(_ db: Database, _ key: [UInt8]) throws -> [UInt8]? {
        try withValue(db, key) { Array($0) }
    }

    /// Opens a cursor for the duration of `body`.
    public func withCursor<T>(_ db: Database, _ body: (Cursor) throws -> T) throws -> T {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        guard let cursor else { throw StorageError(kind: .invalidTransaction, message: "no cursor") }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(handle: cursor, dbName: db.name))
    }
}

/// A read-only snapshot (see ``Environment/read(_:)``).
public struct ReadTransaction: TransactionProtocol {
    public let txn: OpaquePointer
}

/// A read-write transaction (see ``Writer`` and ``Environment/writeDirect(_:)``).
public struct WriteTransaction: TransactionProtocol {
    public let txn: OpaquePointer
    let tracker: WriteTracker?

    init(txn: OpaquePointer, tracker: WriteTracker? = nil) {
        self.txn = txn
        self.tracker = tracker
    }

    public func put(_ db: Database, _ key: [UInt8], _ value: [UInt8]) throws {
        tracker?.dirty = true
        try key.withUnsafeBytes { keyBytes in
            try value.withUnsafeBytes { valueBytes in
                var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
                var v = MDB_val(mv_size: valueBytes.count, mv_data: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress))
                try check(mdb_put(txn, db.dbi, &k, &v, 0), "mdb_put(\(db.name))")
            }
        }
    }

    /// Deletes `key`; returns whether it existed.
    @discardableResult
    public func delete(_ db: Database, _ key: [UInt8]) throws -> Bool {
        tracker?.dirty = true
        return try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            let rc = mdb_del(txn, db.dbi, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "mdb_del(\(db.name))")
            return true
        }
    }

    /// Deletes every key that starts with `prefix`; returns how many were removed.
    @discardableResult
    public func deletePrefix(_ db: Database, _ prefix: [UInt8]) throws -> Int {
        var keys: [[UInt8]] = []
        try withCursor(db) { cursor in
            var entry = try cursor.seek(atOrAfter: prefix)
            while let current = entry, current.key.starts(with: prefix) {
                keys.append(Array(current.key))
                entry = try cursor.next()
            }
        }
        for key in keys { try delete(db, key) }
        return keys.count
    }
}

/// Records whether a write body touched the transaction, so the writer knows when a failed body
/// left changes behind that must not be committed.
final class WriteTracker {
    var dirty = false
}

/// A position in a database. Buffers returned by its moves are valid until the next move.
public struct Cursor {
    let handle: OpaquePointer
    let dbName: String

    public struct Entry {
        public let key: UnsafeRawBufferPointer
        public let value: UnsafeRawBufferPointer
    }

    /// Moves to the first key ≥ `key`.
    public func seek(atOrAfter key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            return try move(&k, MDB_SET_RANGE)
        }
    }

    public func next() throws -> Entry? {
        var k = MDB_val()
        return try move(&k, MDB_NEXT)
    }

    public func previous() throws -> Entry? {
        var k = MDB_val()
        return try move(&k, MDB_PREV)
    }

    public func first() throws -> Entry? {
        var k = MDB_val()
        return try move(&k, MDB_FIRST)
    }

    public func last() throws -> Entry? {
        var k = MDB_val()
        return try move(&k, MDB_LAST)
    }

    private func move(_ key: inout MDB_val, _ op: MDB_cursor_op) throws -> Entry? {
        var value = MDB_val()
        let rc = mdb_cursor_get(handle, &key, &value, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(dbName))")
        return Entry(
            key: UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
            value: UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
        )
    }
}
