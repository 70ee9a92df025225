/// Runs `body` until it finishes or `deadline` passes. At the deadline the body's task is cancelled and the error
/// `expired()` makes is thrown; the answer is prompt only if the body honours cancellation (gRPC calls and
/// `Task.sleep` do), because the task group waits for it.
public func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant,
    orThrow expired: @escaping @Sendable () -> any Error,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
    guard let outcome else { throw expired() }
    return outcome
}
