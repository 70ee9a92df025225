import Metrics
import OaaSProto
import Synchronization

/// The router rows of spec §11.2: `router_nodes{role}`, `router_routes_revision`, `router_subscribers`,
/// `router_events_published_total`, `router_events_dropped_total` and `router_forward_total{method,code}`.
final class RouterMetrics: Sendable {
    private let factory: any MetricsFactory
    private let nodeGauges: [Oaas_Router_NodeRole: Gauge]
    private let revisionGauge: Gauge
    private let subscriberGauge: Gauge
    private let publishedCounter: Counter
    private let droppedCounter: Counter
    private let forwardCounters = Mutex<[String: Counter]>([:])

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        var gauges: [Oaas_Router_NodeRole: Gauge] = [:]
        for role in Oaas_Router_NodeRole.allCases {
            gauges[role] = Gauge(label: "router_nodes", dimensions: [("role", Self.name(of: role))], factory: factory)
        }
        nodeGauges = gauges
        revisionGauge = Gauge(label: "router_routes_revision", factory: factory)
        subscriberGauge = Gauge(label: "router_subscribers", factory: factory)
        publishedCounter = Counter(label: "router_events_published_total", factory: factory)
        droppedCounter = Counter(label: "router_events_dropped_total", factory: factory)
    }

    func nodes(_ counts: [Oaas_Router_NodeRole: Int]) {
        for (role, gauge) in nodeGauges { gauge.record(counts[role] ?? 0) }
    }

    func revision(_ revision: UInt64) {
        revisionGauge.record(Double(revision))
    }

    func subscribers(_ count: Int) {
        subscriberGauge.record(count)
    }

    func published(_ count: Int) {
        if count > 0 { publishedCounter.increment(by: count) }
    }

    func dropped(_ count: Int) {
        if count > 0 { droppedCounter.increment(by: count) }
    }

    func forward(method: String, code: String) {
        let counter = forwardCounters.withLock { cache in
            let key = method + "|" + code
            if let existing = cache[key] { return existing }
            let made = Counter(label: "router_forward_total", dimensions: [("method", method), ("code", code)], factory: factory)
            cache[key] = made
            return made
        }
        counter.increment()
    }

    static func name(of role: Oaas_Router_NodeRole) -> String {
        switch role {
        case .odgm: "odgm"
        case .gateway: "gateway"
        case .router: "router"
        case .function: "function"
        default: "unspecified"
        }
    }
}
