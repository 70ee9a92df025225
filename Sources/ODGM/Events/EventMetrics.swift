import Metrics
import Synchronization

/// The trigger and change-event metrics of spec §11.2. Metric objects are created once per label set.
final class EventMetrics: Sendable {
    /// Final or intermediate outcome of one delivery attempt (`odgm_trigger_deliveries_total{outcome}`).
    enum Outcome: String, Sendable, CaseIterable {
        case ok
        case appError = "app_error"
        case invalid
        case retry
        case exhausted
    }

    private struct Partition: Hashable {
        let collection: String
        let partition: UInt32
    }

    private let factory: any MetricsFactory
    private let created: Counter
    private let updated: Counter
    private let deleted: Counter
    private let deliveries: [Outcome: Counter]
    private let depthExceeded: Counter
    private let fanoutLimited: Counter
    private let outboxDepth = Mutex<[Partition: Gauge]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
        created = Counter(label: "odgm_events_emitted_total", dimensions: [("action", "create")], factory: factory)
        updated = Counter(label: "odgm_events_emitted_total", dimensions: [("action", "update")], factory: factory)
        deleted = Counter(label: "odgm_events_emitted_total", dimensions: [("action", "delete")], factory: factory)
        var deliveries: [Outcome: Counter] = [:]
        for outcome in Outcome.allCases {
            deliveries[outcome] = Counter(label: "odgm_trigger_deliveries_total", dimensions: [("outcome", outcome.rawValue)], factory: factory)
        }
        self.deliveries = deliveries
        depthExceeded = Counter(label: "odgm_trigger_depth_exceeded_total", factory: factory)
        fanoutLimited = Counter(label: "odgm_events_fanout_limited_total", factory: factory)
    }

    /// One count per change of a committed mutation, by action.
    func emitted(_ changes: [EntryChange]) {
        var counts = (create: 0, update: 0, delete: 0)
        for change in changes {
            switch change.action {
            case .create: counts.create += 1
            case .update: counts.update += 1
            case .delete: counts.delete += 1
            }
        }
        if counts.create > 0 { created.increment(by: counts.create) }
        if counts.update > 0 { updated.increment(by: counts.update) }
        if counts.delete > 0 { deleted.increment(by: counts.delete) }
    }

    func delivery(_ outcome: Outcome) {
        deliveries[outcome]?.increment()
    }

    func depthLimited(_ count: Int) {
        if count > 0 { depthExceeded.increment(by: count) }
    }

    func fanoutLimited(_ count: Int) {
        if count > 0 { fanoutLimited.increment(by: count) }
    }

    /// `odgm_trigger_outbox_depth{collection,partition}`: pending deliveries of one shard.
    func outboxDepth(collection: String, partition: UInt32, pending: UInt64) {
        let key = Partition(collection: collection, partition: partition)
        let gauge = outboxDepth.withLock { cache in
            if let gauge = cache[key] { return gauge }
            let gauge = Gauge(label: "odgm_trigger_outbox_depth",
                              dimensions: [("collection", collection), ("partition", String(partition))], factory: factory)
            cache[key] = gauge
            return gauge
        }
        gauge.record(Double(pending))
    }
}
