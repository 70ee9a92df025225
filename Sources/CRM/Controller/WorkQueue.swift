import Synchronization

/// The reconcile work queue (control-plane spec §9.2): keys are deduplicated, a key is handed to at most one worker
/// at a time (a key added while it is being processed runs again once `done` is called), and delayed requeues keep
/// only the earliest due time per key.
///
/// Workers call `next()` and `done(_:)`; `runScheduler()` moves due delayed keys into the queue and must run for
/// `addAfter` to have any effect. `shutdown()` wakes every waiter with `nil`.
final class WorkQueue: Sendable {
    typealias Instant = ContinuousClock.Instant

    private struct State {
        var ready: [String] = []
        var readySet: Set<String> = []
        var processing: Set<String> = []
        /// Added while processing: goes back to `ready` on `done`.
        var dirty: Set<String> = []
        var delayed: [String: Instant] = [:]
        var waiters: [(id: UInt64, continuation: CheckedContinuation<String?, Never>)] = []
        var nextWaiterID: UInt64 = 0
        var schedulerWake: CheckedContinuation<Void, Never>?
        var schedulerKicked = false
        var shutDown = false

        /// Queues `key` unless it is queued or running; returns a waiter to resume with it, if one is waiting.
        mutating func enqueue(_ key: String) -> CheckedContinuation<String?, Never>? {
            if processing.contains(key) {
                dirty.insert(key)
                return nil
            }
            guard !readySet.contains(key) else { return nil }
            if !waiters.isEmpty {
                let waiter = waiters.removeFirst()
                processing.insert(key)
                return waiter.continuation
            }
            ready.append(key)
            readySet.insert(key)
            return nil
        }
    }

    private let state = Mutex(State())

    /// Queues `key` now (cancelling any delayed requeue of it: the reconcile will schedule its own).
    func add(_ key: String) {
        let waiter: CheckedContinuation<String?, Never>? = state.withLock { state in
            guard !state.shutDown else { return nil }
            state.delayed[key] = nil
            return state.enqueue(key)
        }
        waiter?.resume(returning: key)
    }

    /// Queues `key` after `delay`, unless it is already due earlier.
    func addAfter(_ key: String, _ delay: Duration) {
        guard delay > .zero else {
            add(key)
            return
        }
        let due = ContinuousClock.now + delay
        let wake: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.shutDown else { return nil }
            if let existing = state.delayed[key], existing <= due { return nil }
            state.delayed[key] = due
            // The scheduler may be sleeping towards a later time: make it look again.
            if let wake = state.schedulerWake {
                state.schedulerWake = nil
                return wake
            }
            state.schedulerKicked = true
            return nil
        }
        wake?.resume()
    }

    /// The next key to process, waiting for one; `nil` once shut down or when the calling task is cancelled.
    func next() async -> String? {
        let id: UInt64 = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                let immediate: String?? = state.withLock { state in
                    // Checked under the lock: the cancellation handler takes the same lock, so either it sees our
                    // waiter or we see the cancellation.
                    if state.shutDown || Task.isCancelled { return .some(nil) }
                    if !state.ready.isEmpty {
                        let key = state.ready.removeFirst()
                        state.readySet.remove(key)
                        state.processing.insert(key)
                        return .some(key)
                    }
                    state.waiters.append((id, continuation))
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<String?, Never>? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Marks `key` finished; a key re-added meanwhile is queued again.
    func done(_ key: String) {
        let waiter: CheckedContinuation<String?, Never>? = state.withLock { state in
            state.processing.remove(key)
            guard state.dirty.remove(key) != nil, !state.shutDown else { return nil }
            return state.enqueue(key)
        }
        waiter?.resume(returning: key)
    }

    /// Moves due delayed keys into the queue until the calling task is cancelled or the queue shuts down.
    func runScheduler() async {
        while !Task.isCancelled {
            let (nextDue, finished) = promoteDue()
            if finished { return }
            await withTaskGroup(of: Void.self) { group in
                if let nextDue {
                    group.addTask { try? await Task.sleep(until: nextDue, clock: .continuous) }
                }
                group.addTask { await self.waitForKick() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Wakes every waiting worker with `nil`; later calls of `next()` return `nil` at once.
    func shutdown() {
        let (waiters, wake) = state.withLock { state in
            state.shutDown = true
            defer {
                state.waiters = []
                state.schedulerWake = nil
            }
            return (state.waiters.map(\.continuation), state.schedulerWake)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        wake?.resume()
    }

    /// Number of keys queued, running or delayed (for tests and logs).
    var count: (ready: Int, processing: Int, delayed: Int) {
        state.withLock { ($0.ready.count, $0.processing.count, $0.delayed.count) }
    }

    // MARK: Scheduler internals

    private func promoteDue() -> (nextDue: Instant?, finished: Bool) {
        let now = ContinuousClock.now
        let (resumes, nextDue, finished) = state.withLock { state -> ([(CheckedContinuation<String?, Never>, String)], Instant?, Bool) in
            guard !state.shutDown else { return ([], nil, true) }
            var resumes: [(CheckedContinuation<String?, Never>, String)] = []
            for (key, due) in state.delayed where due <= now {
                state.delayed[key] = nil
                if let waiter = state.enqueue(key) { resumes.append((waiter, key)) }
            }
            return (resumes, state.delayed.values.min(), false)
        }
        for (waiter, key) in resumes { waiter.resume(returning: key) }
        return (nextDue, finished)
    }

    private func waitForKick() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = state.withLock { state in
                    if state.schedulerKicked || state.shutDown || Task.isCancelled {
                        state.schedulerKicked = false
                        return true
                    }
                    state.schedulerWake = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.schedulerWake = nil }
                return state.schedulerWake
            }
            wake?.resume()
        }
    }
}
