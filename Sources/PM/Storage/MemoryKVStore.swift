import Foundation

/// An in-memory ``KVStore`` with the same semantics as the durable ones (tests, `--memory`).
public actor MemoryKVStore: KVStore {
    private var items: [String: KVItem] = [:]
    private var revision: UInt64 = 0

    public init() {}

    public func get(_ key: String) -> KVItem? {
        items[key]
    }

    public func list(prefix: String, after: String?, limit: Int?) -> [KVItem] {
        var keys = items.keys.filter { $0.hasPrefix(prefix) }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        if let after { keys = keys.filter { Array(after.utf8).lexicographicallyPrecedes(Array($0.utf8)) } }
        if let limit { keys = Array(keys.prefix(max(limit, 0))) }
        return keys.compactMap { items[$0] }
    }

    public func commit(_ operations: [KVOperation], if conditions: [KVCondition]) throws -> UInt64 {
        for condition in conditions {
            switch condition {
            case .absent(let key) where items[key] != nil: throw KVStoreError.conflict(key)
            case .revision(let key, let expected) where items[key]?.revision != expected: throw KVStoreError.conflict(key)
            default: break
            }
        }
        revision += 1
        for operation in operations {
            switch operation {
            case .put(let key, let value): items[key] = KVItem(key: key, value: value, revision: revision)
            case .delete(let key): items[key] = nil
            case .deletePrefix(let prefix): items = items.filter { !$0.key.hasPrefix(prefix) }
            }
        }
        return revision
    }

    public func health() {}
}
