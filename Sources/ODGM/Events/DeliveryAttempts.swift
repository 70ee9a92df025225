import Logging
import OaaSCore
import OaaSProto

/// Sends one delivery with the rules of spec §6.4: it is done on OKAY, INVALID_REQUEST or
/// APP_ERROR, and dropped on a permanent error (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION);
/// anything else (SYSTEM_ERROR, UNAVAILABLE, DEADLINE_EXCEEDED, …) is retried `maxRetries` times
/// with doubling backoff, then dropped as exhausted. Every attempt sends the same call, with the
/// same `oaas-invocation-id`, so runtimes can dedupe.
struct DeliveryAttempts: Sendable {
    let invoker: any Invoker
    let settings: EventSettings
    let metrics: EventMetrics
    let logger: Logger

    private enum Verdict {
        case done(EventMetrics.Outcome)
        case retry(String)
        case cancelled
    }

    /// The final outcome, or nil when shutdown interrupted it: the delivery then stays in the
    /// outbox and is sent again after the restart.
    func run(_ delivery: TriggerDelivery) async -> EventMetrics.Outcome? {
        var logger = logger
        logger[metadataKey: "invocation_id"] = "\(delivery.invocationID)"
        logger[metadataKey: "fn"] = "\(delivery.fnID)"
        let call: TriggerDelivery.Call
        do {
            call = try delivery.wireCall()
        } catch {
            metrics.delivery(.invalid)
            logger.error("trigger payload cannot be encoded; delivery dropped", metadata: ["error": "\(error)"])
            return .invalid
        }
        var backoff = settings.retryBackoff
        var retries = 0
        while true {
            switch await attempt(call, delivery) {
            case .done(let outcome):
                metrics.delivery(outcome)
                if outcome == .invalid { logger.warning("trigger target rejected the delivery; dropped") }
                return outcome
            case .cancelled:
                return nil
            case .retry(let reason):
                if Task.isCancelled { return nil }
                guard retries < settings.maxRetries else {
                    metrics.delivery(.exhausted)
                    logger.warning("trigger delivery failed after \(retries) retries; dropped", metadata: ["last_error": "\(reason)"])
                    return .exhausted
                }
                retries += 1
                metrics.delivery(.retry)
                logger.debug("trigger delivery failed; retrying", metadata: ["retry": "\(retries)", "error": "\(reason)"])
                do {
                    try await Task.sleep(for: backoff)
                } catch {
                    return nil
                }
                backoff *= 2
            }
        }
    }

    /// One call within `ODGM_TRIGGER_TIMEOUT_MS`; a call that outlives it counts as
    /// DEADLINE_EXCEEDED even if the invoker does not enforce the deadline itself.
    private func attempt(_ call: TriggerDelivery.Call, _ delivery: TriggerDelivery) async -> Verdict {
        let deadline = ContinuousClock.now + settings.attemptTimeout
        let context = delivery.context(deadline: deadline)
        let (invoker, timeout) = (invoker, settings.attemptTimeout)
        do {
            let response = try await withDeadline(deadline, orThrow: {
                OaaSError(.deadlineExceeded, "trigger delivery exceeded ODGM_TRIGGER_TIMEOUT_MS (\(timeout))")
            }) {
                switch call {
                case .fn(let request): try await invoker.invokeFn(request, context: context)
                case .obj(let request): try await invoker.invokeObj(request, context: context)
                }
            }
            switch response.status {
            case .okay: return .done(.ok)
            case .systemError: return .retry("SYSTEM_ERROR: \(String(decoding: response.payload, as: UTF8.self))")
            default: return .done(.appError)
            }
        } catch {
            if Task.isCancelled { return .cancelled }
            let failure = OaaSError.from(error)
            switch failure.rpcCode {
            case .notFound, .invalidArgument, .failedPrecondition: return .done(.invalid)
            default: return .retry(failure.description)
            }
        }
    }
}
