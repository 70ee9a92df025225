import Foundation
import OaaSModels

/// One deployment write: the record and the env mappings it adds or drops.
struct DeploymentWrite: Sendable {
    var record: OClassDeployment
    var setMappings: [String: String] = [:]
    var removeMappings: [String] = []
}

extension PMStore {
    func deployment(_ key: String) async throws -> Stored<OClassDeployment>? {
        guard let item = try await kv.get(StoreKeys.deployment(key)) else { return nil }
        return Stored(value: try decodeDeployment(item.value), revision: item.revision)
    }

    /// Every deployment record, sorted by key.
    func deployments() async throws -> [Stored<OClassDeployment>] {
        try await items(StoreKeys.deployments).compactMap { item in
            guard !StoreKeys.name(item.key, under: StoreKeys.deployments).contains("/") else { return nil }
            return decodeLogged(item) { Stored(value: try decodeDeployment($0), revision: item.revision) }
        }
    }

    /// The deployment as the user last wrote it.
    func userSpec(_ key: String) async throws -> OClassDeployment? {
        guard let item = try await kv.get(StoreKeys.userSpec(key)) else { return nil }
        return try decodeDeployment(item.value)
    }

    /// Writes a deployment record (and, for user writes, the user's spec) with its package index entry and
    /// mappings, in one commit. `packageRevision` makes the write fail if the package changed since validation.
    @discardableResult
    func putDeployment(
        _ write: DeploymentWrite,
        guard writeGuard: WriteGuard,
        userSpec: OClassDeployment? = nil,
        packageRevision: UInt64? = nil
    ) async throws -> UInt64 {
        let record = write.record
        var operations: [KVOperation] = [
            .put(StoreKeys.deployment(record.key), data(record)),
            .put(StoreKeys.packageDeployment(record.packageName, record.key), Data()),
        ]
        if let userSpec { operations.append(.put(StoreKeys.userSpec(record.key), data(userSpec.userSpec))) }
        for env in write.setMappings.keys.sorted() {
            operations.append(.put(StoreKeys.mapping(record.key, env: env), Data((write.setMappings[env] ?? "").utf8)))
        }
        for env in write.removeMappings where write.setMappings[env] == nil {
            operations.append(.delete(StoreKeys.mapping(record.key, env: env)))
        }
        var conditions = [writeGuard.condition(StoreKeys.deployment(record.key))].compactMap { $0 }
        if let packageRevision { conditions.append(.revision(StoreKeys.package(record.packageName), packageRevision)) }
        return try await commit(operations, if: conditions)
    }

    /// Read-modify-write of a record with compare-and-swap, retried on races with other writers. `change` returns
    /// false to leave the record as it is. Nil when the record does not exist (any more).
    @discardableResult
    func updateDeployment(
        _ key: String,
        _ change: @Sendable (inout DeploymentWrite) -> Bool
    ) async throws -> Stored<OClassDeployment>? {
        for _ in 0..<8 {
            guard let current = try await deployment(key) else { return nil }
            var write = DeploymentWrite(record: current.value)
            guard change(&write) else { return current }
            do {
                let revision = try await putDeployment(write, guard: .revision(current.revision))
                return Stored(value: write.record, revision: revision)
            } catch KVStoreError.conflict {
                continue
            }
        }
        throw PMError(.conflict, "deployment '\(key)' kept changing while PM updated it; retry the request")
    }

    /// Removes a record with its mappings, user spec and index entry.
    func removeDeployment(_ record: OClassDeployment, guard writeGuard: WriteGuard = .any) async throws {
        let operations: [KVOperation] = [
            .delete(StoreKeys.deployment(record.key)),
            .deletePrefix(StoreKeys.deploymentChildren(record.key)),
            .delete(StoreKeys.packageDeployment(record.packageName, record.key)),
        ]
        try await commit(operations, if: [writeGuard.condition(StoreKeys.deployment(record.key))].compactMap { $0 })
    }

    /// env → unit id.
    func mappings(_ key: String) async throws -> [String: String] {
        let prefix = StoreKeys.mappings(key)
        var result: [String: String] = [:]
        for item in try await items(prefix) {
            result[StoreKeys.name(item.key, under: prefix)] = String(decoding: item.value, as: UTF8.self)
        }
        return result
    }

    func setMapping(_ key: String, env: String, unit: String) async throws {
        try await commit([.put(StoreKeys.mapping(key, env: env), Data(unit.utf8))], if: [])
    }

    func removeMappings(_ key: String) async throws {
        try await commit([.deletePrefix(StoreKeys.mappings(key))], if: [])
    }

    private func decodeDeployment(_ data: Data) throws -> OClassDeployment {
        try decoder.decodeDeployment(data, format: .json).value
    }
}
