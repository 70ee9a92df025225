/// Reconnect delays: start at `initial`, multiply by `multiplier` after each failure, never above `maximum`;
/// each delay is jittered by ±`jitter` so that many nodes do not retry in lockstep after a router restart.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    public var jitter: Double

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5), multiplier: Double = 2,
                jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(0, jitter), 1)
    }

    /// The delay after `failures` consecutive failures (1 = the first).
    package func delay(afterFailures failures: Int) -> Duration {
        var delay = initial
        for _ in 1..<max(1, failures) {
            delay = min(maximum, delay * multiplier)
            if delay == maximum { break }
        }
        let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter)) : 1
        return min(maximum, delay * factor)
    }
}
