import OaaSCore

/// The gateway's deadline rule (data-plane spec §5.4, §8.1): the client's deadline
/// (`x-oprc-timeout-ms` or `grpc-timeout`) capped by MAX_TIMEOUT_MS, else REQUEST_TIMEOUT_MS.
enum GatewayDeadline {
    static func effective(_ requested: ContinuousClock.Instant?, config: GatewayConfig, now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant {
        guard let requested else { return now + config.requestTimeout }
        return min(requested, now + config.maxTimeout)
    }

    /// Races `body` against `deadline`. The group waits for its children, so the answer is prompt
    /// only if the upstream honours cancellation (gRPC calls and `Task.sleep` do).
    static func race<T: Sendable>(_ deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        if deadline <= ContinuousClock.now { throw OaaSError(.deadlineExceeded, "deadline exceeded before the call was sent") }
        return try await withDeadline(deadline, orThrow: { OaaSError(.deadlineExceeded, "deadline exceeded") }, body)
    }
}
