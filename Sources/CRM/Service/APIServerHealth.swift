import Kube
import Synchronization

/// When the Kubernetes API server last answered (control-plane spec §8.3: HealthService is SERVING iff it answered
/// within the last 10 s). Every call of the CRM can report here; `APIServerProbe` keeps it fresh when nothing else
/// talks to the server.
final class APIServerHealth: Sendable {
    private let lastAnswer = Mutex<ContinuousClock.Instant?>(nil)
    let window: Duration

    init(window: Duration) {
        self.window = window
    }

    func recordAnswer(at instant: ContinuousClock.Instant = .now) {
        lastAnswer.withLock { $0 = instant }
    }

    /// Records the outcome of a call: any HTTP answer from the server counts, a transport failure or 5xx does not.
    func record(_ error: (any Error)?) {
        guard let error else {
            recordAnswer()
            return
        }
        if let kube = error as? KubeError, kube.serverAnswered { recordAnswer() }
    }

    func isServing(at instant: ContinuousClock.Instant = .now) -> Bool {
        guard let last = lastAnswer.withLock({ $0 }) else { return false }
        return last.duration(to: instant) <= window
    }
}
