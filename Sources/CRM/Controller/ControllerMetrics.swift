import Metrics
import Synchronization

/// The controller's self-metrics (control-plane spec §9.5): `crm_reconcile_total{result}`, `crm_reconcile_seconds`,
/// `crm_classruntimes{phase}` and `crm_leader`.
final class ControllerMetrics: Sendable {
    private let results = Mutex<[String: Counter]>([:])
    private let duration = Metrics.Timer(label: "crm_reconcile_seconds")
    private let phases: [String: Gauge]
    let leader = Gauge(label: "crm_leader")

    init() {
        var phases: [String: Gauge] = [:]
        for phase in ClassRuntimePhase.allCases {
            phases[phase.rawValue] = Gauge(label: "crm_classruntimes", dimensions: [("phase", phase.rawValue)])
        }
        self.phases = phases
    }

    func reconciled(result: String, since start: ContinuousClock.Instant) {
        let counter = results.withLock { cache in
            if let existing = cache[result] { return existing }
            let made = Counter(label: "crm_reconcile_total", dimensions: [("result", result)])
            cache[result] = made
            return made
        }
        counter.increment()
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        duration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Sets every phase gauge from a count per phase (missing phases are 0; no status counts as pending).
    func setPhaseCounts(_ counts: [ClassRuntimePhase: Int]) {
        for phase in ClassRuntimePhase.allCases {
            phases[phase.rawValue]?.record(counts[phase] ?? 0)
        }
    }
}
