import Synchronization

/// What the reconciler remembers per ClassRuntime between passes (lost on leader change, which is fine: the first
/// pass of a new leader re-applies everything and starts the backoffs afresh).
final class ReconcileState: Sendable {
    struct Entry: Sendable {
        /// Consecutive degraded passes (5 s doubling) and failed passes (1 s doubling).
        var degradedPasses = 0
        var failedPasses = 0
        /// Last pass that applied every desired child regardless of its hash (§9.4 resync).
        var lastFullApply: ContinuousClock.Instant?
    }

    private let entries = Mutex<[String: Entry]>([:])

    func entry(_ name: String) -> Entry {
        entries.withLock { $0[name] ?? Entry() }
    }

    func update(_ name: String, _ body: (inout Entry) -> Void) {
        entries.withLock { entries in
            var entry = entries[name] ?? Entry()
            body(&entry)
            entries[name] = entry
        }
    }

    func forget(_ name: String) {
        entries.withLock { _ = $0.removeValue(forKey: name) }
    }

    /// `initial · 2^(attempt−1)`, capped.
    static func backoff(_ initial: Duration, attempt: Int, max: Duration) -> Duration {
        let exponent = Swift.min(Swift.max(attempt - 1, 0), 20)
        return Swift.min(initial * (1 << exponent), max)
    }
}
