import Logging
import OaaSCore
import ServiceLifecycle
import Synchronization

/// Sends the pending deliveries of the node's trigger outboxes (spec §6.2–6.4) through the node's
/// ``Invoker``: InvokeObj for a target object, else InvokeFn.
///
/// Work comes from the durable outboxes, never from memory: at start it picks up everything an
/// earlier process left, and a commit or a finished delivery only wakes it to look again. One
/// object's deliveries run one at a time, oldest first, so they start in version order; different
/// objects run concurrently, up to `ODGM_MAX_CONCURRENT_TRIGGERS`. A delivery leaves the outbox
/// once it has a final outcome; at shutdown the ones in flight stay and are sent again after the
/// restart (at least once; runtimes dedupe by `oaas-invocation-id`).
///
/// Wiring: run one per node in the process's service group (it must stop before storage closes),
/// with ODGM's own invoker.
public final class TriggerDispatcher: Service, Sendable {
    private let node: ODGMNode
    private let attempts: DeliveryAttempts
    private let logger: Logger
    /// Object prefixes (see ``OutboxKeys``) with a delivery in flight.
    private let inFlight = Mutex<Set<[UInt8]>>([])
    /// Where the next scan of each outbox starts: just past the last object claimed there.
    private let scanStart = Mutex<[ObjectIdentifier: [UInt8]]>([:])
    /// How often the outboxes are re-read without a wakeup (after storage trouble, say).
    private let recheckInterval: Duration

    private struct Claim: Sendable {
        let outbox: TriggerOutbox
        let entry: OutboxEntry
    }

    public init(node: ODGMNode, invoker: any Invoker, logger: Logger, recheckInterval: Duration = .seconds(5)) {
        self.node = node
        self.attempts = DeliveryAttempts(invoker: invoker, settings: node.events.settings, metrics: node.events.metrics, logger: logger)
        self.logger = logger
        self.recheckInterval = recheckInterval
    }

    private var hub: NodeEvents { node.events }

    public func run() async throws {
        let signals = hub.wakeup.signals()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.recheck() }
                self.refreshGauges()
                self.hub.wakeup.wake()
                for await _ in signals {
                    if Task.isCancelled { break }
                    for claim in self.claim() {
                        group.addTask { await self.deliver(claim) }
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Deliveries still pending on this node (all outboxes).
    public func pendingCount() throws -> UInt64 {
        try outboxes().reduce(0) { total, outbox in try outbox.pendingCounts().reduce(total) { $0 + $1.pending } }
    }

    private func recheck() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: recheckInterval)
            } catch {
                return
            }
            hub.wakeup.wake()
        }
    }

    /// One outbox per open environment; collections are re-read each time since they may be added at run time.
    private func outboxes() -> [TriggerOutbox] {
        var seen = Set<ObjectIdentifier>()
        var result: [TriggerOutbox] = []
        for collection in node.allCollections where !collection.databases.environment.isClosed {
            let outbox = TriggerOutbox(dbs: collection.databases)
            if seen.insert(outbox.environmentID).inserted { result.append(outbox) }
        }
        return result
    }

    /// Takes the oldest delivery of each idle object, up to the free slots, round-robin over objects.
    private func claim() -> [Claim] {
        let busy = inFlight.withLock { $0 }
        var free = hub.settings.maxConcurrent - busy.count
        var claimed: [Claim] = []
        for outbox in outboxes() where free > 0 {
            do {
                let start = scanStart.withLock { $0[outbox.environmentID] }
                for entry in try outbox.heads(excluding: busy, limit: free, from: start) {
                    guard inFlight.withLock({ $0.insert(entry.objectPrefix).inserted }) else { continue }
                    claimed.append(Claim(outbox: outbox, entry: entry))
                    free -= 1
                    scanStart.withLock { $0[outbox.environmentID] = OutboxKeys.pastObject(entry.objectPrefix) }
                }
            } catch {
                logger.warning("reading the trigger outbox failed", metadata: ["error": "\(error)"])
            }
        }
        return claimed
    }

    private func deliver(_ claim: Claim) async {
        let entry = claim.entry
        defer { release(entry.objectPrefix) }
        switch entry.delivery {
        case .success(let delivery):
            guard await attempts.run(delivery) != nil else { return }
        case .failure(let corrupt):
            // One unreadable record must not wedge its object's deliveries.
            logger.error("dropping an unreadable trigger delivery", metadata: [
                "cls": "\(entry.collection)", "partition": "\(entry.partition)", "error": "\(corrupt)",
            ])
        }
        do {
            let pending = try await claim.outbox.remove(entry)
            hub.metrics.outboxDepth(collection: entry.collection, partition: entry.partition, pending: pending)
        } catch {
            // The delivery stays and will be sent again (at least once); do not spin on broken storage.
            logger.error("removing a finished trigger delivery failed", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: hub.settings.retryBackoff * 8)
        }
    }

    private func release(_ objectPrefix: [UInt8]) {
        inFlight.withLock { _ = $0.remove(objectPrefix) }
        hub.wakeup.wake()
    }

    /// Sets `odgm_trigger_outbox_depth` from the durable counts (exact after a restart).
    private func refreshGauges() {
        for outbox in outboxes() {
            do {
                for count in try outbox.pendingCounts() {
                    hub.metrics.outboxDepth(collection: count.collection, partition: count.partition, pending: count.pending)
                }
            } catch {
                logger.debug("cannot read trigger outbox depths", metadata: ["error": "\(error)"])
            }
        }
    }
}
