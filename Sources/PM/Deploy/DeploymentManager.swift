import Foundation
import Logging
import OaaSModels

/// The deployment workflow of spec §5: derive, store, dispatch, aggregate; delete; redeploy after package
/// updates. Requests, background jobs and the reconciler all go through it, one key at a time.
final class DeploymentManager: Sendable {
    let store: PMStore
    let envs: CRMEnvironments
    let health: HealthMonitor
    let dispatcher: Dispatcher
    let config: PMConfig
    let locks = KeyedLocks()

    init(store: PMStore, envs: CRMEnvironments, health: HealthMonitor, dispatcher: Dispatcher, config: PMConfig) {
        self.store = store
        self.envs = envs
        self.health = health
        self.dispatcher = dispatcher
        self.config = config
    }

    /// Runs a storage call, turning its failures into API errors (503, or 409 for a lost race).
    func storage<T: Sendable>(_ body: () async throws -> T) async throws(PMError) -> T {
        do {
            return try await body()
        } catch {
            throw PMError.storage(error)
        }
    }

    /// Health of each env of `names` that is configured, probed concurrently where the cache is stale.
    func healthOf(_ names: [String], correlationId: String) async -> [String: ClusterHealth] {
        await withTaskGroup(of: ClusterHealth?.self) { group in
            for name in Set(names) where envs[name] != nil {
                group.addTask { await self.health.health(of: name, correlationId: correlationId) }
            }
            var result: [String: ClusterHealth] = [:]
            for await health in group {
                if let health { result[health.clusterName] = health }
            }
            return result
        }
    }

    /// The unit id of an env of a record: the stored one, else the deterministic one.
    static func unitId(_ record: OClassDeployment, env: String) -> String {
        record.status?.envs[env]?.unitId ?? DeterministicIds.unitId(deploymentKey: record.key, env: env)
    }

    /// A record whose deletion was requested: condition DELETED and every env left is being deleted.
    static func isBeingDeleted(_ record: OClassDeployment) -> Bool {
        record.condition == .deleted && (record.status?.envs.values.allSatisfy { $0.dispatch == .deleting } ?? true)
    }

    /// Spec §5.8: the most severe condition of the selected envs (dropped envs still being deleted do not count).
    static func aggregateCondition(_ record: OClassDeployment) -> DeploymentCondition {
        if isBeingDeleted(record) { return .deleted }
        let status = record.status ?? DeploymentStatusSummary()
        let selected = status.selectedEnvs.isEmpty ? record.targetEnvs : status.selectedEnvs
        let states = selected.map { status.envs[$0].map(LiveStatus.stored) ?? .pending }
        return DeploymentCondition.aggregate(states)
    }

    /// The package and class of a record as stored now, for rebuilding its units.
    func packageAndClass(of record: OClassDeployment) async throws(PMError) -> (Stored<OPackage>, OClass) {
        guard let package = try await storage({ try await self.store.package(record.packageName) }) else {
            throw PMError(.notFound, "package '\(record.packageName)' of deployment '\(record.key)' not found", field: "package_name")
        }
        guard let cls = package.value.class(record.classKey) else {
            throw PMError.validation("class_key", "class '\(record.classKey)' is not defined in package '\(record.packageName)'")
        }
        return (package, cls)
    }
}
