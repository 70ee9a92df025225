import Foundation
import GRPCCore
import Logging
import OaaSModels
import OaaSProto

extension DeploymentManager {
    /// One attempt per read: a live view degrades to the stored state rather than waiting on retries.
    static let singleAttempt = RetryPolicy(attempts: 1, baseDelay: .zero, maxDelay: .zero)

    /// `GetDeploymentStatus` of every accepted env of a record, concurrently.
    func liveReplies(_ record: OClassDeployment, call: CRMCall) async -> [String: Result<Oaas_Deployment_GetDeploymentStatusResponse, RPCError>] {
        let states = record.status?.envs ?? [:]
        return await withTaskGroup(of: (String, Result<Oaas_Deployment_GetDeploymentStatusResponse, RPCError>)?.self) { group in
            for env in states.keys.sorted() where states[env]?.dispatch == .accepted {
                guard let crm = envs[env], let unitId = states[env]?.unitId else { continue }
                group.addTask {
                    var request = Oaas_Deployment_GetDeploymentStatusRequest()
                    request.deploymentID = unitId
                    let envCall = call.with(timeout: crm.config.timeout)
                    let result = await Self.singleAttempt.run { try await crm.client.getDeploymentStatus(request, call: envCall) }.result
                    return (env, result)
                }
            }
            var replies: [String: Result<Oaas_Deployment_GetDeploymentStatusResponse, RPCError>] = [:]
            for await entry in group {
                if let (env, result) = entry { replies[env] = result }
            }
            return replies
        }
    }

    /// Applies live replies to the env conditions of a record and re-aggregates (spec §5.8): a CR that is gone is
    /// DOWN; an unreachable env keeps its last condition.
    static func applyLive(_ replies: [String: Result<Oaas_Deployment_GetDeploymentStatusResponse, RPCError>], to record: inout OClassDeployment) {
        guard var status = record.status else { return }
        for (env, result) in replies {
            guard var state = status.envs[env] else { continue }
            switch result {
            case .success(let reply):
                if let condition = LiveStatus.condition(reply) { state.condition = condition }
                let runtime = LiveStatus.runtimeStatus(reply)
                state.message = runtime.hasMessage ? runtime.message : state.message
            case .failure(let error) where error.code == .notFound:
                state.condition = .down
                state.message = "ClassRuntime not found in env '\(env)'"
            case .failure:
                continue
            }
            status.envs[env] = state
        }
        record.status = status
        record.condition = aggregateCondition(record)
    }

    /// The record with its live condition (GET with `live=true`); nothing is written.
    func overlay(_ record: OClassDeployment, call: CRMCall) async -> OClassDeployment {
        var copy = record
        Self.applyLive(await liveReplies(record, call: call), to: &copy)
        return copy
    }
}
