import Foundation
import GRPCCore
import Logging
import OaaSModels

/// The outcome of a deployment delete (spec §5.7).
struct DeleteResult: Sendable {
    var key: String
    var deletedEnvs: [String]
    /// Envs whose CRM could not be reached: the record stays (`deleting`) and the reconciler finishes.
    var pendingEnvs: [String]

    var isComplete: Bool { pendingEnvs.isEmpty }
}

extension DeploymentManager {
    /// Deletes the unit of every env of the deployment; NOT_FOUND counts as done. When all are done the record and
    /// its mappings go; otherwise the record stays with condition DELETED and the unreachable envs `deleting`.
    func delete(_ key: String, preconditions: Preconditions = .none, call: CRMCall, logger: Logger) async throws(PMError) -> DeleteResult {
        var logger = logger
        logger[metadataKey: "deployment"] = "\(key)"
        return try await locks.withLock(key) { () async throws(PMError) -> DeleteResult in
            guard let existing = try await storage({ try await self.store.deployment(key) }) else {
                throw PMError.notFound("deployment '\(key)' not found")
            }
            try preconditions.check(current: existing.value.revision ?? 0, resource: "deployment '\(key)'")
            let record = existing.value
            let status = record.status ?? DeploymentStatusSummary()
            let recorded = status.envs.keys.sorted()
            let targets = !recorded.isEmpty ? recorded : (status.selectedEnvs.isEmpty ? record.targetEnvs : status.selectedEnvs)

            // Marked first, so a crash mid-way leaves the work to the reconciler instead of orphaned units.
            let marked = try await storage {
                try await self.store.updateDeployment(key) { write in
                    var status = write.record.status ?? DeploymentStatusSummary()
                    for env in targets {
                        var state = status.envs[env] ?? EnvDeploymentState(unitId: Self.unitId(write.record, env: env))
                        state.dispatch = .deleting
                        state.condition = .deleted
                        status.envs[env] = state
                    }
                    write.record.status = status
                    write.record.condition = .deleted
                    return true
                }
            }
            guard let marked else { throw PMError.notFound("deployment '\(key)' not found") }
            return try await finishDelete(marked.value, envs: targets, call: call, logger: logger)
        }
    }

    /// Sends the deletes of `envs` and records the outcome; removes the record when no env is left.
    func finishDelete(_ record: OClassDeployment, envs targets: [String], call: CRMCall, logger: Logger) async throws(PMError) -> DeleteResult {
        let key = record.key
        let errors = await deleteUnits(targets.map { ($0, Self.unitId(record, env: $0)) }, call: call, logger: logger)
        let deleted = targets.filter { errors[$0] == nil }
        let pending = targets.filter { errors[$0] != nil }
        let stamp = Timestamps.now()
        let remaining = try await storage {
            try await self.store.updateDeployment(key) { write in
                var status = write.record.status ?? DeploymentStatusSummary()
                for env in deleted { status.envs[env] = nil }
                for env in pending {
                    status.envs[env]?.lastError = errors[env].map(CRMFailure.describe)
                    status.envs[env]?.lastAttemptAt = stamp
                    status.envs[env]?.attempts += 1
                }
                status.lastError = pending.first.flatMap { env in errors[env].map { "\(env): \(CRMFailure.describe($0))" } }
                write.record.status = status
                write.setMappings = [:]
                write.removeMappings = deleted
                return true
            }
        }
        if let remaining, Self.isBeingDeleted(remaining.value), remaining.value.status?.envs.isEmpty ?? true {
            try await storage { try await self.store.removeDeployment(remaining.value, guard: .revision(remaining.revision)) }
            logger.info("deployment deleted", metadata: ["envs": "\(deleted.joined(separator: ","))"])
        } else if !pending.isEmpty {
            logger.warning("deployment delete pending", metadata: ["pending_envs": "\(pending.joined(separator: ","))"])
        }
        return DeleteResult(key: key, deletedEnvs: deleted, pendingEnvs: pending)
    }
}
