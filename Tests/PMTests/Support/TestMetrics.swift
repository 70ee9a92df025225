import Metrics
import Synchronization

/// An in-memory metrics backend, so tests read exact values without bootstrapping the global MetricsSystem.
final class TestMetrics: MetricsFactory, Sendable {
    private let values = Mutex<[String: Double]>([:])

    /// `label{k=v,...}` with dimensions in the order given.
    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        "\(label){\(dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ","))}"
    }

    func value(_ label: String, _ dimensions: [(String, String)]) -> Double? {
        values.withLock { $0[Self.key(label, dimensions)] }
    }

    func add(_ key: String, _ delta: Double) { values.withLock { $0[key, default: 0] += delta } }
    func set(_ key: String, _ value: Double) { values.withLock { $0[key] = value } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Handler: CounterHandler, FloatingPointCounterHandler, RecorderHandler, TimerHandler, Sendable {
        let metrics: TestMetrics
        let key: String

        init(metrics: TestMetrics, key: String) {
            self.metrics = metrics
            self.key = key
        }

        func increment(by amount: Int64) { metrics.add(key, Double(amount)) }
        func increment(by amount: Double) { metrics.add(key, amount) }
        func reset() { metrics.set(key, 0) }
        func record(_ value: Int64) { metrics.set(key, Double(value)) }
        func record(_ value: Double) { metrics.set(key, value) }
        func recordNanoseconds(_ duration: Int64) { metrics.add(key, 1) }
    }
}
