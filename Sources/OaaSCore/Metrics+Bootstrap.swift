import Metrics
import Prometheus

/// Process-wide Prometheus registry behind swift-metrics; `/metrics` renders it.
public enum MetricsSetup {
    /// Histogram buckets of every latency metric (data-plane spec §11.2), in seconds.
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Installs the Prometheus factory once per process and returns its registry.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = latencyBuckets.map { Duration.nanoseconds(Int64($0 * 1e9)) }
        factory.defaultValueHistogramBuckets = latencyBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
