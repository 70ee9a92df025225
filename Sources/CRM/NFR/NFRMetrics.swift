import Metrics
import Synchronization

/// `crm_nfr_enforcements_total{result}` (control-plane spec §9.5): `applied`, `failed`, `skipped_cooldown`,
/// `skipped_stability`.
final class NFRMetrics: Sendable {
    enum Result: String, Sendable {
        case applied
        case failed
        case skippedCooldown = "skipped_cooldown"
        case skippedStability = "skipped_stability"
    }

    private let counters = Mutex<[Result: Counter]>([:])

    func count(_ result: Result) {
        let counter = counters.withLock { cache in
            if let existing = cache[result] { return existing }
            let made = Counter(label: "crm_nfr_enforcements_total", dimensions: [("result", result.rawValue)])
            cache[result] = made
            return made
        }
        counter.increment()
    }
}
