import Metrics
import Synchronization

/// An in-memory metrics backend, so tests read exact values without bootstrapping the global
/// MetricsSystem (other test targets share the process).
final class TestMetrics: MetricsFactory, Sendable {
    private let values = Mutex<[String: Double]>([:])
    private let samples = Mutex<[String: [Int64]]>([:])

    /// `label` alone, or `label{k=v,...}` with dimensions in the order given.
    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.isEmpty ? label : "\(label){\(dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ","))}"
    }

    func value(_ label: String, _ dimensions: [(String, String)] = []) -> Double? {
        values.withLock { $0[Self.key(label, dimensions)] }
    }

    func count(_ label: String, _ dimensions: [(String, String)] = []) -> Int {
        Int(value(label, dimensions) ?? 0)
    }

    func timerSamples(_ label: String, _ dimensions: [(String, String)]) -> [Int64] {
        samples.withLock { $0[Self.key(label, dimensions)] ?? [] }
    }

    fileprivate func add(_ key: String, _ delta: Double) {
        values.withLock { $0[key, default: 0] += delta }
    }

    fileprivate func set(_ key: String, _ value: Double) {
        values.withLock { $0[key] = value }
    }

    fileprivate func sample(_ key: String, _ value: Int64) {
        samples.withLock { $0[key, default: []].append(value) }
    }

    private func touch(_ key: String) -> String {
        values.withLock { if $0[key] == nil { $0[key] = 0 } }
        return key
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(self, touch(Self.key(label, dimensions)))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        Handler(self, touch(Self.key(label, dimensions)))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        Handler(self, touch(Self.key(label, dimensions)))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(self, touch(Self.key(label, dimensions)))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(self, Self.key(label, dimensions))
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Handler: CounterHandler, FloatingPointCounterHandler, MeterHandler, RecorderHandler, TimerHandler, Sendable {
        let owner: TestMetrics
        let key: String

        init(_ owner: TestMetrics, _ key: String) {
            self.owner = owner
            self.key = key
        }

        func increment(by amount: Int64) { owner.add(key, Double(amount)) }
        func increment(by amount: Double) { owner.add(key, amount) }
        func decrement(by amount: Double) { owner.add(key, -amount) }
        func reset() { owner.set(key, 0) }
        func set(_ value: Int64) { owner.set(key, Double(value)) }
        func set(_ value: Double) { owner.set(key, value) }
        func record(_ value: Int64) { owner.set(key, Double(value)) }
        func record(_ value: Double) { owner.set(key, value) }
        func recordNanoseconds(_ duration: Int64) { owner.sample(key, duration) }
    }
}
