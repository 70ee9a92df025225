import GRPCCore

/// Attempts and backoff of CRM calls (spec §5.5): delay before retry n = base·2^(n−1) with ±20 % jitter, at most
/// `maxDelay`; only UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED and RESOURCE_EXHAUSTED are retried.
struct RetryPolicy: Sendable {
    var attempts: Int
    var baseDelay: Duration
    var maxDelay: Duration

    func delay(beforeRetry retry: Int) -> Duration {
        let factor = Double(1 << min(max(retry - 1, 0), 30))
        let jitter = Double.random(in: 0.8...1.2)
        return min(baseDelay * (factor * jitter), maxDelay)
    }

    /// Runs `operation` until it succeeds, fails with a non-retryable status, or the attempts are used up.
    /// Returns the outcome and the number of attempts made.
    func run<T: Sendable>(_ operation: () async throws -> T) async -> (result: Result<T, RPCError>, attempts: Int) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return (.success(try await operation()), attempt)
            } catch {
                let failure = CRMFailure.rpcError(error)
                guard attempt < max(attempts, 1), CRMFailure.isRetryable(failure.code), !Task.isCancelled else {
                    return (.failure(failure), attempt)
                }
                do {
                    try await Task.sleep(for: delay(beforeRetry: attempt))
                } catch {
                    return (.failure(failure), attempt)
                }
            }
        }
    }
}
