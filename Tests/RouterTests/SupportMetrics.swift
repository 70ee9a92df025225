import Metrics
import Synchronization

/// Metrics that tests can read back, without touching the process-wide MetricsSystem.
final class RecordingMetrics: MetricsFactory, Sendable {
    private let values = Mutex<[String: Double]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.isEmpty ? label : label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    func value(_ label: String, _ dimensions: [(String, String)] = []) -> Double {
        values.withLock { $0[Self.key(label, dimensions)] ?? 0 }
    }

    fileprivate func update(_ key: String, _ change: (inout Double) -> Void) {
        values.withLock { change(&$0[key, default: 0]) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Recorder(self, Self.key(label, dimensions))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        Recorder(self, Self.key(label, dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Recorder(self, Self.key(label, dimensions))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        Recorder(self, Self.key(label, dimensions))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Recorder(self, Self.key(label, dimensions))
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

private final class Recorder: CounterHandler, FloatingPointCounterHandler, RecorderHandler, MeterHandler, TimerHandler, Sendable {
    private let sink: RecordingMetrics
    private let key: String

    init(_ sink: RecordingMetrics, _ key: String) {
        self.sink = sink
        self.key = key
    }

    func increment(by amount: Int64) { sink.update(key) { $0 += Double(amount) } }
    func increment(by amount: Double) { sink.update(key) { $0 += amount } }
    func reset() { sink.update(key) { $0 = 0 } }
    func record(_ value: Int64) { sink.update(key) { $0 = Double(value) } }
    func record(_ value: Double) { sink.update(key) { $0 = value } }
    func set(_ value: Int64) { record(value) }
    func set(_ value: Double) { record(value) }
    func decrement(by amount: Double) { sink.update(key) { $0 -= amount } }
    func recordNanoseconds(_ duration: Int64) { record(duration) }
}
