import Metrics

/// Async invocation metrics (data-plane spec §11.2).
struct AsyncMetrics: Sendable {
    /// Unfinished (PENDING or RUNNING) calls on this node.
    private let pending = Gauge(label: "odgm_async_pending")

    func recordPending(_ count: UInt64) {
        pending.record(Double(count))
    }
}
