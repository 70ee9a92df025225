import Dispatch
import Synchronization

/// Lets a host function, which WasmKit calls synchronously on the guest thread, await an async
/// `ObjectStore` call. Blocking is fine there: the guest thread is ours, never a cooperative-pool
/// thread, and the wait ends at the call's deadline.
enum BlockingBridge {
    static func run<Value: Sendable>(
        until deadline: ContinuousClock.Instant,
        _ operation: @escaping @Sendable () async throws -> Value
    ) throws -> Value {
        let outcome = Outcome<Value>()
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            do {
                outcome.set(.success(try await operation()))
            } catch {
                outcome.set(.failure(error))
            }
            done.signal()
        }
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero, done.wait(timeout: .now() + dispatchInterval(remaining)) == .success else {
            task.cancel()
            throw WasmFailure.deadline
        }
        guard let result = outcome.get() else { throw WasmFailure.deadline }
        return try result.get()
    }

    private static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        let cappedSeconds = min(seconds, Int64(Int.max / 1_000_000_000) - 1)
        return .nanoseconds(Int(cappedSeconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }

    private final class Outcome<Value: Sendable>: Sendable {
        private let value = Mutex<Result<Value, any Error>?>(nil)
        func set(_ result: Result<Value, any Error>) { value.withLock { $0 = result } }
        func get() -> Result<Value, any Error>? { value.withLock { $0 } }
    }
}
