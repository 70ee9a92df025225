import Foundation
import Storage

/// The default, embedded PM backend: one LMDB environment with the logical keys in database `pm`
/// and each key's revision in database `rev`. A commit is one write transaction (record, indexes
/// and revisions together), group-committed with other requests. One PM replica only.
public final class LMDBKVStore: KVStore {
    private let environment: Environment
    private let writer: Writer
    private let values: Database
    private let revisions: Database
    /// The store-wide revision counter lives under a key no logical key can have.
    private static let counterKey: [UInt8] = [0]

    public init(handle: StorageRegistry.Handle) throws {
        environment = handle.environment
        writer = handle.writer
        values = try environment.openDatabase("pm")
        revisions = try environment.openDatabase("rev")
    }

    public func get(_ key: String) async throws -> KVItem? {
        try mappedSync {
            try environment.read { txn in
                guard let value = try txn.get(values, Array(key.utf8)) else { return nil }
                return KVItem(key: key, value: Data(value), revision: try revision(txn, Array(key.utf8)))
            }
        }
    }

    public func list(prefix: String, after: String?, limit: Int?) async throws -> [KVItem] {
        try mappedSync {
            try environment.read { txn in
                var items: [KVItem] = []
                let prefixBytes = Array(prefix.utf8)
                // Strictly after `after`: the smallest key above it is `after` + 0x00.
                var start = prefixBytes
                if let after {
                    let resume = Array(after.utf8) + [0]
                    if prefixBytes.lexicographicallyPrecedes(resume) { start = resume }
                }
                try txn.withCursor(values) { cursor in
                    // LMDB refuses an empty search key: an empty prefix starts at the first key.
                    var entry = start.isEmpty ? try cursor.first() : try cursor.seek(atOrAfter: start)
                    while let current = entry, current.key.starts(with: prefixBytes) {
                        if let limit, items.count >= limit { break }
                        let key = Array(current.key)
                        items.append(KVItem(key: String(decoding: key, as: UTF8.self), value: Data(current.value), revision: try revision(txn, key)))
                        entry = try cursor.next()
                    }
                }
                return items
            }
        }
    }

    @discardableResult
    public func commit(_ operations: [KVOperation], if conditions: [KVCondition]) async throws -> UInt64 {
        try await mapped {
            try await writer.write { [values, revisions] txn in
                // Every check happens before the first write, so a conflict leaves the batch clean.
                for condition in conditions {
                    switch condition {
                    case .absent(let key):
                        if try txn.get(values, Array(key.utf8)) != nil { throw KVStoreError.conflict(key) }
                    case .revision(let key, let expected):
                        let current = try txn.get(revisions, Array(key.utf8)).flatMap(Self.decode)
                        let exists = try txn.get(values, Array(key.utf8)) != nil
                        if current != expected || !exists { throw KVStoreError.conflict(key) }
                    }
                }
                let next = (try txn.get(revisions, Self.counterKey).flatMap(Self.decode) ?? 0) + 1
                try txn.put(revisions, Self.counterKey, Self.encode(next))
                for operation in operations {
                    switch operation {
                    case .put(let key, let value):
                        try txn.put(values, Array(key.utf8), Array(value))
                        try txn.put(revisions, Array(key.utf8), Self.encode(next))
                    case .delete(let key):
                        try txn.delete(values, Array(key.utf8))
                        try txn.delete(revisions, Array(key.utf8))
                    case .deletePrefix(let prefix):
                        try txn.deletePrefix(values, Array(prefix.utf8))
                        // The counter key (0x00) can never start with a non-empty prefix.
                        if !prefix.isEmpty { try txn.deletePrefix(revisions, Array(prefix.utf8)) }
                    }
                }
                return next
            }
        }
    }

    public func health() async throws {
        if environment.isClosed { throw KVStoreError.unavailable("LMDB environment '\(environment.path)' is closed") }
        _ = try await get("health")
    }

    private func revision(_ txn: some TransactionProtocol, _ key: [UInt8]) throws -> UInt64 {
        try txn.get(revisions, key).flatMap(Self.decode) ?? 0
    }

    private static func encode(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private static func decode(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    private func mappedSync<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KVStoreError {
            throw error
        } catch {
            throw KVStoreError.unavailable("\(error)")
        }
    }

    /// Storage failures become UNAVAILABLE; conflicts pass through.
    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as KVStoreError {
            throw error
        } catch {
            throw KVStoreError.unavailable("\(error)")
        }
    }
}
