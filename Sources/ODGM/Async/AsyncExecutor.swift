import Logging
import ServiceLifecycle
import Synchronization

/// The background side of async invocations: runs unfinished calls, at most `maxConcurrent` at a
/// time, and purges expired results.
///
/// Work comes from the durable run queue, not from memory: on start it picks up every PENDING and
/// RUNNING call left by an earlier process (at-least-once), and a submit or a finished run only
/// wakes it to look again. At shutdown the runs in flight are cancelled and stay unfinished, so the
/// next start runs them again.
public final class AsyncExecutor: Service, Sendable {
    private let shared: AsyncNodeStores
    private let runner: AsyncRunner
    private let logger: Logger
    /// Calls being run by this process (bounded by `maxConcurrent`).
    private let inFlight = Mutex<Set<AsyncCallKey>>([])

    /// A queued call taken for a run, with the store that holds it.
    private struct Claim: Sendable {
        let store: AsyncCallStore
        let call: QueuedCall
    }

    init(stores: AsyncNodeStores, runner: AsyncRunner, logger: Logger) {
        self.shared = stores
        self.runner = runner
        self.logger = logger
    }

    private func wake() {
        shared.wakeup.wake()
    }

    public func run() async throws {
        let signals = shared.wakeup.signals()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.housekeeping() }
                self.shared.refreshPendingGauge()
                self.wake()
                for await _ in signals {
                    if Task.isCancelled { break }
                    for call in self.claim() {
                        group.addTask { await self.execute(call) }
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Periodically purges expired results and re-checks the queue.
    private func housekeeping() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: shared.settings.purgeInterval)
            } catch {
                return
            }
            do {
                _ = try await shared.purgeExpired()
            } catch {
                logger.warning("purging expired async results failed", metadata: ["error": "\(error)"])
            }
            wake()
        }
    }

    /// Takes queued calls that are not running yet, up to the free slots.
    private func claim() -> [Claim] {
        let running = inFlight.withLock { $0.count }
        let free = max(1, shared.settings.maxConcurrent) - running
        guard free > 0 else { return [] }
        var claimed: [Claim] = []
        for store in shared.stores() where claimed.count < free {
            do {
                // Calls in flight are still queued, so read past them.
                for call in try store.queued(limit: free + running) where claimed.count < free {
                    let isNew = inFlight.withLock { $0.insert(call.key).inserted }
                    if isNew { claimed.append(Claim(store: store, call: call)) }
                }
            } catch {
                logger.warning("reading the async run queue failed", metadata: ["error": "\(error)"])
            }
        }
        return claimed
    }

    private func execute(_ queued: Claim) async {
        let key = queued.call.key
        defer { release(key) }
        var logger = logger
        logger[metadataKey: "invocation_id"] = "\(key.invocationID)"
        do {
            guard let record = try await queued.store.begin(queued.call, nowMs: shared.settings.nowMs()) else {
                logger.debug("async call is gone or done; dropped from the run queue")
                shared.refreshPendingGauge()
                return
            }
            guard let response = await runner.run(record, invocationID: key.invocationID) else { return }
            try await queued.store.finish(key, response: response, nowMs: shared.settings.nowMs(),
                                          ttlMs: shared.settings.resultTTLMs)
            shared.refreshPendingGauge()
        } catch {
            // Storage trouble: keep the call queued, and wait before it is claimed again.
            logger.error("async call bookkeeping failed", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: shared.settings.retryBackoff * 8)
        }
    }

    private func release(_ key: AsyncCallKey) {
        inFlight.withLock { _ = $0.remove(key) }
        wake()
    }
}
