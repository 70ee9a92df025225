import CLMDB
import Foundation
import Synchronization

/// An LMDB environment: one directory, one memory map, a fixed set of named databases.
///
/// Readers may open read-only transactions from any thread (the environment is opened with
/// `MDB_NOTLS`). All writes go through the environment's ``Writer``, which owns LMDB's single
/// write lock and batches concurrent mutations into one durable commit.
public final class Environment: Sendable {
    public struct Options: Sendable {
        /// Size of the memory map (address space, not disk space).
        public var mapSizeBytes: Int
        /// Upper bound on named databases.
        public var maxDatabases: UInt32
        /// Upper bound on concurrent read transactions.
        public var maxReaders: UInt32
        /// When false, commits skip fsync: data survives a process crash but not a power loss.
        public var durable: Bool

        public init(mapSizeBytes: Int = 1 << 30, maxDatabases: UInt32 = 16, maxReaders: UInt32 = 1024, durable: Bool = true) {
            self.mapSizeBytes = mapSizeBytes
            self.maxDatabases = maxDatabases
            self.maxReaders = maxReaders
            self.durable = durable
        }
    }

    nonisolated(unsafe) let handle: OpaquePointer
    public let path: String
    public let options: Options
    private let closed = Atomic<Bool>(false)
    /// Transactions in flight; `close()` waits for them, because closing frees the map they read.
    private let users = Atomic<Int>(0)

    /// Opens (creating if needed) the environment in directory `path`.
    public init(path: String, options: Options = Options()) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StorageError(kind: .lmdb(-1), message: "cannot create directory '\(path)': \(error.localizedDescription)")
        }
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw StorageError(kind: .lmdb(-1), message: "mdb_env_create returned no handle") }
        do {
            try check(mdb_env_set_mapsize(env, options.mapSizeBytes), "mdb_env_set_mapsize")
            try check(mdb_env_set_maxdbs(env, options.maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, options.maxReaders), "mdb_env_set_maxreaders")
            var flags = UInt32(MDB_NOTLS | MDB_NORDAHEAD)
            if !options.durable { flags |= UInt32(MDB_NOSYNC) }
            try check(mdb_env_open(env, path, flags, 0o644), "mdb_env_open '\(path)'")
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        self.options = options
    }

    deinit {
        close()
    }

    /// Flushes and closes the environment. Idempotent; later use throws ``StorageError/Kind/closed``.
    public func close() {
        guard !closed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        // A transaction that got past `enter()` runs to its end first (they are short and never await).
        while users.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        mdb_env_sync(handle, 1)
        mdb_env_close(handle)
    }

    public var isClosed: Bool { closed.load(ordering: .sequentiallyConsistent) }

    /// Marks the environment in use until `leave()`; throws once it is closed. The count goes up before the
    /// flag is read and `close()` sets the flag before reading the count, so one of them always sees the other.
    func enter() throws(StorageError) {
        users.add(1, ordering: .sequentiallyConsistent)
        if closed.load(ordering: .sequentiallyConsistent) {
            users.subtract(1, ordering: .sequentiallyConsistent)
            throw StorageError(kind: .closed, message: "environment '\(path)' is closed")
        }
    }

    func leave() {
        users.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// Opens or creates a named database. Call at start-up, before concurrent use.
    public func openDatabase(_ name: String) throws(StorageError) -> Database {
        try enter()
        defer { leave() }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn), "mdb_txn_begin")
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi)
        if rc != 0 {
            mdb_txn_abort(txn)
            throw StorageError(code: rc, operation: "mdb_dbi_open '\(name)'")
        }
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
        return Database(dbi: dbi, name: name)
    }

    /// Runs `body` in a read-only snapshot. The transaction ends when `body` returns, so it must
    /// never be kept or used across an `await`.
    public func read<T>(_ body: (ReadTransaction) throws -> T) throws -> T {
        try enter()
        defer { leave() }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin(read)")
        guard let txn else { throw StorageError(kind: .invalidTransaction, message: "no read transaction") }
        defer { mdb_txn_abort(txn) }
        return try body(ReadTransaction(txn: txn))
    }

    /// Runs `body` in its own write transaction and commits it (durably, if the environment is).
    /// This bypasses group commit: use it for set-up and tests, and ``Writer`` for serving.
    public func writeDirect<T>(_ body: (WriteTransaction) throws -> T) throws -> T {
        try enter()
        defer { leave() }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn), "mdb_txn_begin(write)")
        guard let txn else { throw StorageError(kind: .invalidTransaction, message: "no write transaction") }
        do {
            let result = try body(WriteTransaction(txn: txn))
            try check(mdb_txn_commit(txn), "mdb_txn_commit")
            return result
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
    }

    /// Forces the data to disk (used after non-durable batches and at shutdown).
    public func sync() throws(StorageError) {
        try enter()
        defer { leave() }
        try check(mdb_env_sync(handle, 1), "mdb_env_sync")
    }
}

/// A named database inside an ``Environment``.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi
    public let name: String
}
