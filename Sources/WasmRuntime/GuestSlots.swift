import Synchronization

/// Caps the guests running at once: each runs on its own thread, and a burst of calls must not
/// become a burst of threads. Waiting is cancellable (the caller's deadline). A lock, not an actor:
/// a guest thread hands its slot back synchronously when it ends.
final class GuestSlots: Sendable {
    private struct State {
        var free: Int
        var nextTicket: UInt64 = 0
        var waiters: [(ticket: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(free: max(1, count)))
    }

    /// A held slot; releasing it twice is harmless.
    final class Slot: Sendable {
        private let owner: GuestSlots
        private let held = Atomic<Bool>(true)

        fileprivate init(owner: GuestSlots) {
            self.owner = owner
        }

        func release() {
            if held.exchange(false, ordering: .acquiringAndReleasing) { owner.handBack() }
        }
    }

    func acquire() async throws -> Slot {
        let ticket = state.withLock { state in
            state.nextTicket += 1
            return state.nextTicket
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let granted = state.withLock { state in
                    if Task.isCancelled { return false as Bool? }
                    if state.free > 0 {
                        state.free -= 1
                        return true
                    }
                    state.waiters.append((ticket, continuation))
                    return nil
                }
                switch granted {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
        return Slot(owner: self)
    }

    private func handBack() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
