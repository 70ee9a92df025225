import Foundation
import GRPCCore
import Logging
import OaaSModels
import OaaSProto

/// The result of deploying one unit to one env (spec §5.5).
struct UnitOutcome: Sendable {
    enum Result: Sendable, Equatable {
        /// The CRM took the unit; its message is `created`, `updated` or `unchanged`.
        case accepted(String?)
        /// Retryable failures used every attempt: the reconciler keeps trying.
        case pending(RPCError)
        /// A non-retryable failure.
        case failed(RPCError)
    }

    var env: String
    var unitId: String
    var result: Result
    var attempts: Int

    var dispatch: DispatchState {
        switch result {
        case .accepted: .accepted
        case .pending: .pending
        case .failed: .failed
        }
    }

    var error: RPCError? {
        switch result {
        case .accepted: nil
        case .pending(let error), .failed(let error): error
        }
    }

    var resultName: String { dispatch.rawValue }
}

/// Sends units to CRMs concurrently with retries, deadlines and the request's correlation id.
struct Dispatcher: Sendable {
    let metrics: PMMetrics
    let deployRetries: RetryPolicy
    let readRetries: @Sendable (CRMEnvConfig) -> RetryPolicy

    /// Deploys each unit to its env concurrently; one outcome per env.
    func deploy(_ units: [(env: CRMEnvironment, unit: Oaas_Deployment_DeploymentUnit)], policy: RetryPolicy, call: CRMCall, logger: Logger) async -> [String: UnitOutcome] {
        await withTaskGroup(of: UnitOutcome.self) { group in
            for (env, unit) in units {
                group.addTask {
                    var request = Oaas_Deployment_DeployRequest()
                    request.deploymentUnit = unit
                    let envCall = call.with(timeout: env.config.timeout)
                    let (result, attempts) = await policy.run {
                        let response = try await env.client.deploy(request, call: envCall)
                        if response.status != .ok {
                            throw RPCError(code: .internalError, message: "CRM answered status \(response.status) for unit '\(unit.id)'\(response.hasMessage ? ": \(response.message)" : "")")
                        }
                        return response.hasMessage ? response.message : nil
                    }
                    let outcome: UnitOutcome.Result = switch result {
                    case .success(let message): .accepted(message)
                    case .failure(let error): CRMFailure.isRetryable(error.code) ? .pending(error) : .failed(error)
                    }
                    let done = UnitOutcome(env: env.name, unitId: unit.id, result: outcome, attempts: attempts)
                    metrics.dispatch(env: env.name, result: done.resultName)
                    var metadata: Logger.Metadata = ["env": "\(env.name)", "unit_id": "\(unit.id)", "result": "\(done.resultName)", "attempts": "\(attempts)"]
                    if let error = done.error {
                        metadata["error"] = "\(CRMFailure.describe(error))"
                        logger.warning("unit dispatch did not complete", metadata: metadata)
                    } else {
                        logger.info("unit dispatched", metadata: metadata)
                    }
                    return done
                }
            }
            var outcomes: [String: UnitOutcome] = [:]
            for await outcome in group { outcomes[outcome.env] = outcome }
            return outcomes
        }
    }

    /// Deletes a unit; NOT_FOUND counts as done. Returns the error when the unit may still exist.
    func delete(unitId: String, env: CRMEnvironment, call: CRMCall, logger: Logger) async -> RPCError? {
        var request = Oaas_Deployment_DeleteDeploymentRequest()
        request.deploymentID = unitId
        let envCall = call.with(timeout: env.config.timeout)
        let (result, _) = await readRetries(env.config).run {
            _ = try await env.client.deleteDeployment(request, call: envCall)
        }
        var metadata: Logger.Metadata = ["env": "\(env.name)", "unit_id": "\(unitId)"]
        switch result {
        case .success:
            metrics.dispatch(env: env.name, result: "deleted")
            logger.info("unit deleted", metadata: metadata)
            return nil
        case .failure(let error) where error.code == .notFound:
            metrics.dispatch(env: env.name, result: "deleted")
            logger.info("unit already gone", metadata: metadata)
            return nil
        case .failure(let error):
            metrics.dispatch(env: env.name, result: "delete_pending")
            metadata["error"] = "\(CRMFailure.describe(error))"
            logger.warning("unit delete did not complete", metadata: metadata)
            return error
        }
    }

    /// A read with the env's retry policy; the failure is the API error of spec §8.1.
    func read<T: Sendable>(_ env: CRMEnvironment, _ operation: @Sendable (CRMCall) async throws -> T, call: CRMCall) async -> Result<T, RPCError> {
        let envCall = call.with(timeout: env.config.timeout)
        return await readRetries(env.config).run { try await operation(envCall) }.result
    }
}
