import Foundation
import GRPCCore
import OaaSModels

extension DeploymentManager {
    /// Writes dispatch outcomes into a record: accepted envs get their mapping and (unless their unit is unchanged)
    /// condition DEPLOYING; retryable failures stay `pending`; dropped envs whose delete succeeded leave the record.
    /// - Parameters:
    ///   - deleted: dropped envs whose delete was attempted; those without an entry in `deleteErrors` are gone.
    ///   - cumulative: count attempts on top of earlier ones (reconciler) instead of restarting (user write).
    static func record(
        outcomes: [UnitOutcome],
        unchanged: Set<String>,
        deleted: [String],
        deleteErrors: [String: RPCError],
        cumulative: Bool = false,
        into write: inout DeploymentWrite
    ) {
        var status = write.record.status ?? DeploymentStatusSummary()
        let stamp = Timestamps.now()
        var lastError: String?
        for outcome in outcomes {
            var state = status.envs[outcome.env] ?? EnvDeploymentState(unitId: outcome.unitId)
            let earlier = cumulative ? state.attempts : 0
            state.unitId = outcome.unitId
            state.dispatch = outcome.dispatch
            state.attempts = earlier &+ UInt32(clamping: outcome.attempts)
            state.lastAttemptAt = stamp
            switch outcome.result {
            case .accepted(let message):
                state.lastError = nil
                state.message = message
                if !unchanged.contains(outcome.env) { state.condition = .deploying }
                write.setMappings[outcome.env] = outcome.unitId
            case .pending(let error), .failed(let error):
                let text = CRMFailure.describe(error)
                state.lastError = text
                state.condition = outcome.dispatch == .failed ? .down : .pending
                lastError = lastError ?? "\(outcome.env): \(text)"
            }
            status.envs[outcome.env] = state
        }
        for env in deleted where status.envs[env]?.dispatch == .deleting {
            if let error = deleteErrors[env] {
                status.envs[env]?.lastError = CRMFailure.describe(error)
                status.envs[env]?.lastAttemptAt = stamp
                lastError = lastError ?? "\(env): \(CRMFailure.describe(error))"
            } else {
                status.envs[env] = nil
                write.removeMappings.append(env)
            }
        }
        // The newest error, else one still standing on another env; none once every env is clean.
        status.lastError = lastError ?? status.envs.keys.sorted().lazy.compactMap { env in
            status.envs[env]?.lastError.map { "\(env): \($0)" }
        }.first
        write.record.status = status
        write.record.condition = aggregateCondition(write.record)
    }
}
