import Foundation
import GRPCCore
import Logging
import OaaSModels

extension DeploymentManager {
    /// One reconciler pass over a deployment (spec §5.8): re-dispatch due `pending` units, finish due deletes,
    /// cache live conditions. Returns, per env it acted on, whether the action succeeded (for the caller's backoff).
    func reconcile(_ key: String, isDue: @escaping @Sendable (String) -> Bool, call: CRMCall, logger: Logger) async -> [String: Bool] {
        var logger = logger
        logger[metadataKey: "deployment"] = "\(key)"
        do {
            return try await locks.withLock(key) { () async throws(PMError) -> [String: Bool] in
                guard let stored = try await storage({ try await self.store.deployment(key) }) else { return [:] }
                if Self.isBeingDeleted(stored.value) { return try await reconcileDelete(stored, isDue: isDue, call: call, logger: logger) }
                return try await reconcileLive(stored.value, isDue: isDue, call: call, logger: logger)
            }
        } catch {
            logger.warning("reconcile failed", metadata: ["error": "\(error)"])
            return [:]
        }
    }

    private func reconcileDelete(_ stored: Stored<OClassDeployment>, isDue: (String) -> Bool, call: CRMCall, logger: Logger) async throws(PMError) -> [String: Bool] {
        let envs = (stored.value.status?.envs.keys.sorted() ?? []).filter(isDue)
        if stored.value.status?.envs.isEmpty ?? true {
            try await storage { try await self.store.removeDeployment(stored.value, guard: .revision(stored.revision)) }
            return [:]
        }
        guard !envs.isEmpty else { return [:] }
        let result = try await finishDelete(stored.value, envs: envs, call: call, logger: logger)
        return Dictionary(uniqueKeysWithValues: envs.map { ($0, result.deletedEnvs.contains($0)) })
    }

    private func reconcileLive(_ record: OClassDeployment, isDue: (String) -> Bool, call: CRMCall, logger: Logger) async throws(PMError) -> [String: Bool] {
        let status = record.status ?? DeploymentStatusSummary()
        let selected = Set(status.selectedEnvs)
        let pending = status.selectedEnvs.filter { status.envs[$0]?.dispatch == .pending && isDue($0) }
        let dropped = status.envs.keys.sorted().filter { !selected.contains($0) && status.envs[$0]?.dispatch == .deleting && isDue($0) }

        var outcomes: [UnitOutcome] = []
        if !pending.isEmpty {
            let (_, cls) = try await packageAndClass(of: record)
            let units = pending.compactMap { env in envs[env].map { (env: $0, unit: UnitBuilder.unit(record, cls: cls, env: env)) } }
            let results = await dispatcher.deploy(units, policy: Self.singleAttempt, call: call, logger: logger)
            outcomes = pending.compactMap { results[$0] }
        }
        let deleteErrors = await deleteUnits(dropped.map { ($0, Self.unitId(record, env: $0)) }, call: call, logger: logger)
        let replies = await liveReplies(record, call: call)

        let revision = record.revision
        let finalOutcomes = outcomes
        _ = try await storage {
            try await self.store.updateDeployment(record.key) { write in
                guard write.record.revision == revision else { return false }
                let before = write.record
                Self.applyLive(replies, to: &write.record)
                Self.record(outcomes: finalOutcomes, unchanged: [], deleted: dropped, deleteErrors: deleteErrors, cumulative: true, into: &write)
                return write.record != before || !write.setMappings.isEmpty || !write.removeMappings.isEmpty
            }
        }
        var report: [String: Bool] = [:]
        for outcome in outcomes { report[outcome.env] = outcome.dispatch == .accepted }
        for env in dropped { report[env] = deleteErrors[env] == nil }
        return report
    }
}
