import Logging
import Synchronization

/// The async stores of one node (one per storage environment its collections use), with what the
/// request side and the executor share: settings, metrics and the wakeup signal.
struct AsyncNodeStores: Sendable {
    let node: ODGMNode
    let settings: AsyncSettings
    let metrics: AsyncMetrics
    let wakeup: AsyncWakeup
    let logger: Logger

    /// One store per open environment; collections are re-read each time since they may be added at run time.
    func stores() -> [AsyncCallStore] {
        var seen = Set<ObjectIdentifier>()
        var result: [AsyncCallStore] = []
        for collection in node.allCollections where !collection.databases.environment.isClosed {
            let store = AsyncCallStore(dbs: collection.databases)
            if seen.insert(store.environmentID).inserted { result.append(store) }
        }
        return result
    }

    /// Deletes expired DONE records everywhere, in bounded batches; returns how many.
    func purgeExpired() async throws -> Int {
        let batch = 1000
        let now = settings.nowMs()
        var total = 0
        for store in stores() {
            while true {
                let purged = try await store.purgeExpired(nowMs: now, limit: batch)
                total += purged
                if purged < batch || Task.isCancelled { break }
            }
        }
        return total
    }

    /// Sets `odgm_async_pending` from the durable counters (exact after restarts).
    func refreshPendingGauge() {
        do {
            metrics.recordPending(try stores().reduce(0) { $0 + (try $1.pendingTotal()) })
        } catch {
            logger.debug("cannot read async pending counts", metadata: ["error": "\(error)"])
        }
    }
}

/// Wakes the executor; wakeups that arrive while it is busy coalesce into one.
final class AsyncWakeup: Sendable {
    private let current = Mutex<AsyncStream<Void>.Continuation?>(nil)

    func wake() {
        current.withLock { $0 }?.yield()
    }

    /// A fresh signal stream for one executor run: a cancelled iteration ends its stream for good,
    /// so each run gets its own (and ends any earlier one).
    func signals() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let previous = current.withLock { slot in
            defer { slot = continuation }
            return slot
        }
        previous?.finish()
        return stream
    }
}
