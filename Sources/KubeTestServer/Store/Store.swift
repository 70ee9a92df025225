import Synchronization

/// The server's state behind one lock, plus the garbage collector's work queue.
final class Store: Sendable {
    private let state: Mutex<State>
    let gcWork: AsyncStream<GCWork>

    init(initialRevision: Int64, eventWindow: Int) {
        let (stream, continuation) = AsyncStream<GCWork>.makeStream(bufferingPolicy: .unbounded)
        gcWork = stream
        state = Mutex(State(initialRevision: initialRevision, eventWindow: eventWindow, gc: continuation))
    }

    /// Runs `body` with exclusive access. Never await or block inside.
    func withState<T: Sendable, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        try state.withLock { (state: inout State) throws(E) -> T in try body(&state) }
    }

    /// Processes garbage-collection work until `finishGarbageCollector()`; each item after `delay`.
    func runGarbageCollector(delay: Duration) async {
        for await work in gcWork {
            if delay > .zero { try? await Task.sleep(for: delay) }
            let now = ServerClock.now()
            withState { state in
                state.collectGarbage(work, now: now)
                state.gcPending -= 1
            }
        }
    }

    func finishGarbageCollector() {
        withState { $0.gc.finish() }
    }
}
