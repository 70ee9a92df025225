import Foundation
import GRPCCore
import Logging
import OaaSCore
import OaaSProto

/// Runs one recorded call through the invoker with the retry policy of data-plane spec §5.5:
/// SYSTEM_ERROR outcomes and UNAVAILABLE / DEADLINE_EXCEEDED failures are retried up to
/// `maxRetries` times with doubling backoff, all with the same invocation id; the last outcome is
/// kept. Any other failure is final and kept as a SYSTEM_ERROR response carrying the error.
struct AsyncRunner: Sendable {
    let invoker: any Invoker
    let settings: AsyncSettings
    let logger: Logger

    private enum Outcome {
        case response(Oprc_InvocationResponse)
        case failure(OaaSError)
    }

    /// The response to store, or nil when the run was cancelled (shutdown): the call then stays
    /// unfinished and runs again after a restart (at least once).
    func run(_ record: AsyncRecord, invocationID: String) async -> Oprc_InvocationResponse? {
        var backoff = settings.retryBackoff
        var retries = 0
        while true {
            let outcome = await attempt(record, invocationID: invocationID)
            let retryable: Bool
            switch outcome {
            case .response(let response): retryable = response.status == .systemError
            case .failure(let error): retryable = error.rpcCode == .unavailable || error.rpcCode == .deadlineExceeded
            }
            // A failure caused by shutdown is not the call's outcome.
            if Task.isCancelled && retryable { return nil }
            if case .failure(let error) = outcome, error.code == .cancelled, Task.isCancelled { return nil }
            guard retryable, retries < settings.maxRetries else { return finalResponse(outcome, invocationID: invocationID) }
            retries += 1
            logger.debug("async call failed; retrying", metadata: [
                "invocation_id": "\(invocationID)", "retry": "\(retries)", "outcome": "\(describe(outcome))",
            ])
            do {
                try await Task.sleep(for: backoff)
            } catch {
                return nil
            }
            backoff *= 2
        }
    }

    /// One call with the run deadline; a call that outlives it counts as DEADLINE_EXCEEDED even if
    /// the invoker does not enforce the deadline itself.
    private func attempt(_ record: AsyncRecord, invocationID: String) async -> Outcome {
        let deadline = ContinuousClock.now + settings.invokeTimeout
        let context = CallContext(triggerDepth: Int(clamping: record.triggerDepth), traceparent: record.traceparent,
                                  tracestate: record.tracestate, deadline: deadline, invocationID: invocationID)
        let invoker = self.invoker
        let call = record.call
        let timeout = settings.invokeTimeout
        do {
            let response = try await withDeadline(deadline, orThrow: {
                OaaSError(.deadlineExceeded, "async call exceeded ODGM_INVOKE_TIMEOUT_MS (\(timeout))")
            }) {
                switch call {
                case .fn(let request): try await invoker.invokeFn(request, context: context)
                case .obj(let request): try await invoker.invokeObj(request, context: context)
                }
            }
            return .response(response)
        } catch is CancellationError {
            return .failure(OaaSError(.cancelled, "async call cancelled"))
        } catch {
            return .failure(OaaSError.from(error))
        }
    }

    private func finalResponse(_ outcome: Outcome, invocationID: String) -> Oprc_InvocationResponse {
        var response: Oprc_InvocationResponse
        switch outcome {
        case .response(let given):
            response = given
        case .failure(let error):
            response = Oprc_InvocationResponse()
            response.status = .systemError
            response.payload = Data("\(error.rpcCodeName): \(error.message)".utf8)
            response.headers["content-type"] = "text/plain; charset=utf-8"
            response.headers["grpc-status"] = error.rpcCodeName
        }
        if response.invocationID.isEmpty { response.invocationID = invocationID }
        return response
    }

    private func describe(_ outcome: Outcome) -> String {
        switch outcome {
        case .response(let response): "status \(response.status)"
        case .failure(let error): error.description
        }
    }
}
