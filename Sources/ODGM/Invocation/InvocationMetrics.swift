import Metrics
import Synchronization

/// `oaas_invocations_total{cls,fn,oaas_owner,status}` and
/// `oaas_invocation_duration_seconds{cls,fn,oaas_owner}` (data-plane spec §11.2), for every call
/// ODGM makes to a function runtime. Metric objects are created once per label set.
final class InvocationMetrics: Sendable {
    private struct CounterKey: Hashable {
        let cls: String
        let fn: String
        let owner: String
        let status: String
    }

    private struct TimerKey: Hashable {
        let cls: String
        let fn: String
        let owner: String
    }

    private let factory: any MetricsFactory
    private let counters = Mutex<[CounterKey: Counter]>([:])
    private let timers = Mutex<[TimerKey: Metrics.Timer]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// `status` is the ResponseStatus name, or the gRPC code name when no response came back.
    func record(cls: String, fn: String, owner: String, status: String, elapsed: Duration) {
        let counterKey = CounterKey(cls: cls, fn: fn, owner: owner, status: status)
        let counter = counters.withLock { cache in
            if let counter = cache[counterKey] { return counter }
            let counter = Counter(label: "oaas_invocations_total",
                                  dimensions: [("cls", cls), ("fn", fn), ("oaas_owner", owner), ("status", status)], factory: factory)
            cache[counterKey] = counter
            return counter
        }
        let timerKey = TimerKey(cls: cls, fn: fn, owner: owner)
        let timer = timers.withLock { cache in
            if let timer = cache[timerKey] { return timer }
            let timer = Metrics.Timer(label: "oaas_invocation_duration_seconds",
                                      dimensions: [("cls", cls), ("fn", fn), ("oaas_owner", owner)], factory: factory)
            cache[timerKey] = timer
            return timer
        }
        counter.increment()
        let (seconds, attoseconds) = elapsed.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
