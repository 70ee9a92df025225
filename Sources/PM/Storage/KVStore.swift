import Foundation

/// One stored item with the revision of its last write.
public struct KVItem: Sendable, Equatable {
    public var key: String
    public var value: Data
    /// Revision of the write that last changed this key (etcd `mod_revision`).
    public var revision: UInt64

    public init(key: String, value: Data, revision: UInt64) {
        self.key = key
        self.value = value
        self.revision = revision
    }
}

/// A write inside one atomic commit.
public enum KVOperation: Sendable, Equatable {
    case put(String, Data)
    case delete(String)
    /// Deletes every key that starts with the prefix.
    case deletePrefix(String)
}

/// A guard evaluated atomically with the commit (compare-and-swap on revisions).
public enum KVCondition: Sendable, Equatable {
    /// The key must not exist (create-only).
    case absent(String)
    /// The key must exist with exactly this revision.
    case revision(String, UInt64)
}

public enum KVStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A condition failed; names the key.
    case conflict(String)
    /// The backend cannot be reached or failed; the message says why.
    case unavailable(String)

    public var description: String {
        switch self {
        case .conflict(let key): "conflicting write on '\(key)'"
        case .unavailable(let message): "storage unavailable: \(message)"
        }
    }
}

/// The storage contract of PM (control-plane spec §6): an ordered key-value store with revisions
/// and multi-key compare-and-swap commits. LMDB, etcd and memory backends implement it; packages,
/// deployments, mappings and indexes are layered on top.
public protocol KVStore: Sendable {
    func get(_ key: String) async throws -> KVItem?
    /// Items whose key starts with `prefix`, sorted by key, strictly after `after` when given.
    func list(prefix: String, after: String?, limit: Int?) async throws -> [KVItem]
    /// Applies `operations` atomically if every condition holds; returns the new store revision.
    @discardableResult
    func commit(_ operations: [KVOperation], if conditions: [KVCondition]) async throws -> UInt64
    /// Throws when the backend is not usable.
    func health() async throws
}
