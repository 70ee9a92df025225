/// Runs `body` until it finishes or `deadline` passes, whichever is first. On expiry the body's
/// task is cancelled and ``DeadlinePassed`` is thrown.
///
/// gRPC only flags an expired RPC as cancelled and leaves the handler running; this makes a
/// handler that honours task cancellation stop once its caller has given up.
func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant?,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard let deadline else { return try await body() }
    let outcome = try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
    guard let outcome else { throw DeadlinePassed() }
    return outcome
}

struct DeadlinePassed: Error, CustomStringConvertible {
    var description: String { "the invocation deadline passed" }
}
