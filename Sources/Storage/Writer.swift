import CLMDB
import Foundation
import Synchronization

/// The single writer of an ``Environment``, with group commit.
///
/// LMDB admits one write transaction at a time and a durable commit costs about a millisecond of
/// fsync, so committing each mutation alone caps a node near a thousand writes per second. The
/// writer owns a dedicated thread (fsync never blocks Swift's cooperative pool): while one batch is
/// being committed, new requests queue up, and the next batch runs all of them in one transaction
/// with one sync. A caller resumes only after the commit that contains its write is durable.
///
/// Bodies run on the writer thread, in order of arrival, and see the effects of earlier bodies of
/// the same batch. A body may run more than once (when another body of its batch fails after
/// writing, the batch is rebuilt without it), so it must compute its writes from the transaction
/// alone.
public final class Writer: Sendable {
    public struct Options: Sendable {
        /// Upper bound on mutations committed together.
        public var maxBatch: Int
        public init(maxBatch: Int = 1024) {
            self.maxBatch = maxBatch
        }
    }

    private struct Job: @unchecked Sendable {
        let run: (WriteTransaction) -> (any Error)?
        let finish: (Result<Void, any Error>) -> Void
    }

    private struct State {
        var queue: [Job] = []
        var stopping = false
        var stopped = false
    }

    public let environment: Environment
    private let options: Options
    private let state = Mutex(State())
    private let wake = NSCondition()
    private let finished = NSCondition()
    private let statsStorage = Mutex(Stats())

    /// Counters that show how well batching works.
    public struct Stats: Sendable {
        public var commits: UInt64 = 0
        public var mutations: UInt64 = 0
    }

    public init(environment: Environment, options: Options = Options()) {
        self.environment = environment
        self.options = options
        let thread = Thread { [self] in self.loop() }
        thread.name = "lmdb-writer"
        thread.start()
    }

    public var stats: Stats { statsStorage.withLock { $0 } }

    /// Runs `body` inside the next batch and returns its result once that batch is durable.
    public func write<T: Sendable>(_ body: @escaping @Sendable (WriteTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let result = Mutex<T?>(nil)
            let job = Job(
                run: { txn in
                    do {
                        let value = try body(txn)
                        result.withLock { $0 = value }
                        return nil
                    } catch {
                        return error
                    }
                },
                finish: { outcome in
                    switch outcome {
                    case .success:
                        if let value = result.withLock({ $0 }) {
                            continuation.resume(returning: value)
                        } else {
                            continuation.resume(throwing: StorageError(kind: .invalidTransaction, message: "write produced no result"))
                        }
                    case .failure(let error):
                        continuation.resume(throwing: error)
                    }
                }
            )
            let accepted = state.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.queue.append(job)
                return true
            }
            if accepted {
                wake.lock()
                wake.signal()
                wake.unlock()
            } else {
                continuation.resume(throwing: StorageError(kind: .closed, message: "writer for '\(environment.path)' is stopped"))
            }
        }
    }

    /// Commits what is queued, then stops the thread. Later writes fail with ``StorageError/Kind/closed``.
    public func stop() {
        state.withLock { $0.stopping = true }
        wake.lock()
        wake.signal()
        wake.unlock()
        finished.lock()
        while !state.withLock({ $0.stopped }) {
            finished.wait()
        }
        finished.unlock()
    }

    private func loop() {
        while true {
            wake.lock()
            var batch: [Job] = []
            var stopping = false
            while true {
                (batch, stopping) = state.withLock { state in
                    let take = Array(state.queue.prefix(options.maxBatch))
                    state.queue.removeFirst(take.count)
                    return (take, state.stopping)
                }
                if !batch.isEmpty || stopping { break }
                wake.wait()
            }
            wake.unlock()
            if !batch.isEmpty { commit(batch) }
            if stopping && batch.isEmpty && state.withLock({ $0.queue.isEmpty }) { break }
        }
        finished.lock()
        state.withLock { $0.stopped = true }
        finished.broadcast()
        finished.unlock()
    }

    private func commit(_ jobs: [Job]) {
        var pending = jobs
        while true {
            do {
                try environment.enter()
            } catch {
                pending.forEach { $0.finish(.failure(error)) }
                return
            }
            defer { environment.leave() }
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(environment.handle, nil, 0, &txn)
            guard rc == 0, let txn else {
                let error = StorageError(code: rc, operation: "mdb_txn_begin(write)")
                pending.forEach { $0.finish(.failure(error)) }
                return
            }
            var outcomes: [(any Error)?] = []
            outcomes.reserveCapacity(pending.count)
            var poisoned: Int?
            for (index, job) in pending.enumerated() {
                let tracker = WriteTracker()
                let error = job.run(WriteTransaction(txn: txn, tracker: tracker))
                if let error, tracker.dirty {
                    poisoned = index
                    outcomes.append(error)
                    break
                }
                outcomes.append(error)
            }
            if let poisoned {
                // A body failed after writing: its partial writes must not be committed.
                mdb_txn_abort(txn)
                if let error = outcomes[poisoned] {
                    pending[poisoned].finish(.failure(error))
                }
                pending.remove(at: poisoned)
                if pending.isEmpty { return }
                continue
            }
            let commitCode = mdb_txn_commit(txn)
            if commitCode != 0 {
                let error = StorageError(code: commitCode, operation: "mdb_txn_commit")
                pending.forEach { $0.finish(.failure(error)) }
                return
            }
            statsStorage.withLock {
                $0.commits += 1
                $0.mutations += UInt64(pending.count)
            }
            for (job, error) in zip(pending, outcomes) {
                if let error { job.finish(.failure(error)) } else { job.finish(.success(())) }
            }
            return
        }
    }
}
