import Metrics
import Synchronization

/// PM's own metrics (spec §7): `pm_http_requests_total{route,code}`, `pm_http_request_seconds{route}`,
/// `pm_dispatch_total{env,result}` and `pm_env_health{env,status}` (1 for the env's current status, else 0).
/// Metric objects are created once per label set; `METRICS_ENABLED=false` records nothing.
final class PMMetrics: Sendable {
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])

    init(factory: any MetricsFactory, enabled: Bool = true) {
        self.factory = enabled ? factory : NOOPMetricsHandler.instance
    }

    func httpRequest(route: String, code: Int, elapsed: Duration) {
        counter("pm_http_requests_total", [("route", route), ("code", String(code))]).increment()
        let (seconds, attoseconds) = elapsed.components
        timer("pm_http_request_seconds", [("route", route)]).recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// `result`: accepted, pending or failed for deploys; deleted or delete_pending for deletes.
    func dispatch(env: String, result: String) {
        counter("pm_dispatch_total", [("env", env), ("result", result)]).increment()
    }

    func envHealth(env: String, status: String) {
        for candidate in ClusterHealth.Status.allCases {
            gauge("pm_env_health", [("env", env), ("status", candidate.rawValue)]).record(candidate.rawValue == status ? 1 : 0)
        }
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        counters.withLock { cache in
            let key = Self.key(label, dimensions)
            if let existing = cache[key] { return existing }
            let created = Counter(label: label, dimensions: dimensions, factory: factory)
            cache[key] = created
            return created
        }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        timers.withLock { cache in
            let key = Self.key(label, dimensions)
            if let existing = cache[key] { return existing }
            let created = Metrics.Timer(label: label, dimensions: dimensions, factory: factory)
            cache[key] = created
            return created
        }
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        gauges.withLock { cache in
            let key = Self.key(label, dimensions)
            if let existing = cache[key] { return existing }
            let created = Gauge(label: label, dimensions: dimensions, factory: factory)
            cache[key] = created
            return created
        }
    }
}
