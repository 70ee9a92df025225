import Synchronization

/// A result that the first of several parties delivers to one waiting task; later deliveries are
/// ignored. Lets a task stop waiting (deadline, cancellation) for work it cannot stop, such as a
/// guest on its own thread. A lock, not an actor: the guest thread delivers synchronously.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, any Error>)
        case delivered(Result<Value, any Error>)
        case finished
    }

    private let state = Mutex<State>(.idle)

    /// Registers the waiter. Returns false, after resuming it, if a result was already delivered.
    func install(_ continuation: CheckedContinuation<Value, any Error>) -> Bool {
        let early: Result<Value, any Error>? = state.withLock { state in
            switch state {
            case .idle:
                state = .waiting(continuation)
                return nil
            case .delivered(let result):
                state = .finished
                return result
            case .waiting, .finished:
                return .failure(CancellationError())
            }
        }
        guard let early else { return true }
        continuation.resume(with: early)
        return false
    }

    /// Delivers a result; returns whether it was the first.
    @discardableResult
    func deliver(_ result: Result<Value, any Error>) -> Bool {
        let action: (CheckedContinuation<Value, any Error>?, Bool) = state.withLock { state in
            switch state {
            case .idle:
                state = .delivered(result)
                return (nil, true)
            case .waiting(let continuation):
                state = .finished
                return (continuation, true)
            case .delivered, .finished:
                return (nil, false)
            }
        }
        action.0?.resume(with: result)
        return action.1
    }

    /// Waits for the result; cancellation ends the wait at once with `CancellationError` and calls
    /// `onAbandon`. `start` runs only if nothing was delivered before the waiter was registered.
    func wait(onAbandon: @Sendable () -> Void = {}, start: () -> Void) async throws -> Value {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if install(continuation) { start() }
            }
        } onCancel: {
            if deliver(.failure(CancellationError())) { onAbandon() }
        }
    }
}
