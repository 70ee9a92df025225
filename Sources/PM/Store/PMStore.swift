import Foundation
import Logging
import OaaSModels

/// A stored value and the storage revision of its last write (etcd `mod_revision`, LMDB `rev`).
struct Stored<Value: Sendable>: Sendable {
    var value: Value
    var revision: UInt64
}

/// What must hold for a write to apply (compare-and-swap on the storage revision).
enum WriteGuard: Sendable, Equatable {
    case create
    case revision(UInt64)
    case any

    func condition(_ key: String) -> KVCondition? {
        switch self {
        case .create: .absent(key)
        case .revision(let revision): .revision(key, revision)
        case .any: nil
        }
    }
}

/// PM's typed storage (control-plane spec §6) over any ``KVStore``: packages, deployments, their env mappings and
/// the reverse indexes, each write one atomic compare-and-swap commit. Lists come back sorted by key.
actor PMStore {
    let kv: any KVStore
    private let logger: Logger
    private var prepared = false
    let encoder = ModelEncoder()
    let decoder = ModelDecoder(mode: .stored)

    init(kv: any KVStore, logger: Logger) {
        self.kv = kv
        self.logger = logger
    }

    /// Writes `meta/schema` on first start; refuses a store written by a newer, incompatible PM.
    func prepare() async throws {
        if let existing = try await kv.get(StoreKeys.schema) {
            let version = (try? JSONSerialization.jsonObject(with: existing.value) as? [String: Any])?["version"] as? Int
            guard version == 1 else {
                throw PMError(.storageUnavailable, "storage schema \(version.map(String.init) ?? "unknown") is not supported (expected 1)")
            }
            prepared = true
            return
        }
        do {
            try await kv.commit([.put(StoreKeys.schema, Data(StoreKeys.schemaValue.utf8))], if: [.absent(StoreKeys.schema)])
        } catch KVStoreError.conflict {
            // Another PM replica wrote it first.
        }
        prepared = true
    }

    /// Throws when the backend is unusable; the first successful check after a start without storage also
    /// writes the schema marker.
    func health() async throws {
        try await kv.health()
        if !prepared { try await prepare() }
    }

    // MARK: Shared helpers

    func items(_ prefix: String) async throws -> [KVItem] {
        try await kv.list(prefix: prefix, after: nil, limit: nil)
    }

    /// Names directly under `prefix` (keys with a further `/` are skipped).
    func names(under prefix: String) async throws -> [String] {
        try await items(prefix).map { StoreKeys.name($0.key, under: prefix) }.filter { !$0.contains("/") }
    }

    @discardableResult
    func commit(_ operations: [KVOperation], if conditions: [KVCondition]) async throws -> UInt64 {
        try await kv.commit(operations, if: conditions)
    }

    func data(_ value: some DocumentRepresentable) -> Data {
        encoder.jsonData(value)
    }

    /// Stored JSON that no longer decodes is skipped in lists (and logged) rather than failing every request.
    func decodeLogged<T>(_ item: KVItem, _ decode: (Data) throws -> T) -> T? {
        do {
            return try decode(item.value)
        } catch {
            logger.error("unreadable record skipped", metadata: ["key": "\(item.key)", "error": "\(error)"])
            return nil
        }
    }
}
