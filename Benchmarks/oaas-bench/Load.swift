import Foundation

/// What one timed case produced.
struct Measurement: Sendable {
    var opsPerSecond: Double
    /// Latency percentiles in seconds; nil when the tool that measured them does not report them.
    var p50: Double?
    var p99: Double?
    /// Successful calls over the whole case, warm-up included: the denominator for CPU per call
    /// and commit batching, which are sampled around the whole case.
    var completed: Int
    var serverCPUPerOp: Double?
    var clientCPUPerOp: Double?
    /// Mutations per durable LMDB commit, when observable.
    var averageBatch: Double?

    /// Server and client CPU per call together, when both were sampled.
    var cpuPerCall: Double? {
        guard let serverCPUPerOp, let clientCPUPerOp else { return nil }
        return serverCPUPerOp + clientCPUPerOp
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) {
        self.description = description
    }
}

/// A closed-loop load generator: `concurrency` callers, each issuing its next call as soon as the
/// previous one returns (like redis-benchmark's clients), so throughput and latency are measured
/// the same way on every side of the comparison.
enum Load {
    private struct WorkerResult: Sendable {
        var latencies: [Int64] = []
        var completed = 0
        var failures = 0
        var firstError: String?
        var lastEnd: ContinuousClock.Instant
    }

    /// Runs `operation` for `warmup` (unrecorded) and then `duration` (recorded). Calls that start
    /// in the window are recorded even if they end after it; throughput divides by the time until
    /// the last of them ended. Any failed call fails the case: a benchmark with errors measures
    /// the wrong thing.
    static func run(
        _ label: String,
        concurrency: Int,
        warmup: Duration,
        duration: Duration,
        yieldBetweenCalls: Bool = false,
        _ operation: @escaping @Sendable (_ worker: Int, _ sequence: UInt64) async throws -> Void
    ) async throws -> Measurement {
        let clock = ContinuousClock()
        let measureFrom = clock.now + warmup
        let stopAt = measureFrom + duration
        let workers = try await withThrowingTaskGroup(of: WorkerResult.self, returning: [WorkerResult].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var result = WorkerResult(lastEnd: measureFrom)
                    result.latencies.reserveCapacity(8192)
                    var sequence: UInt64 = 0
                    while !Task.isCancelled {
                        let start = clock.now
                        if start >= stopAt { break }
                        do {
                            try await operation(worker, sequence)
                            let end = clock.now
                            result.completed += 1
                            if start >= measureFrom {
                                result.latencies.append((end - start).nanoseconds)
                                if end > result.lastEnd { result.lastEnd = end }
                            }
                        } catch {
                            result.failures += 1
                            if result.firstError == nil { result.firstError = String(describing: error) }
                        }
                        sequence &+= 1
                        // Synchronous operations never suspend; yielding lets all callers take turns
                        // instead of the first two monopolising the two pool threads.
                        if yieldBetweenCalls { await Task.yield() }
                    }
                    return result
                }
            }
            var all: [WorkerResult] = []
            for try await result in group { all.append(result) }
            return all
        }

        let failures = workers.reduce(0) { $0 + $1.failures }
        let completed = workers.reduce(0) { $0 + $1.completed }
        if failures > 0 {
            let first = workers.compactMap(\.firstError).first ?? "unknown error"
            throw BenchError("\(label): \(failures) of \(failures + completed) calls failed; first failure: \(first)")
        }
        var latencies: [Int64] = []
        latencies.reserveCapacity(workers.reduce(0) { $0 + $1.latencies.count })
        for worker in workers { latencies.append(contentsOf: worker.latencies) }
        guard !latencies.isEmpty else {
            throw BenchError("\(label): no call completed inside the \(duration) window")
        }
        latencies.sort()
        let lastEnd = workers.map(\.lastEnd).max() ?? stopAt
        let window = max((lastEnd - measureFrom).seconds, 1e-9)
        return Measurement(
            opsPerSecond: Double(latencies.count) / window,
            p50: percentile(latencies, 0.50),
            p99: percentile(latencies, 0.99),
            completed: completed
        )
    }

    /// Nearest-rank percentile of sorted nanosecond samples, in seconds.
    static func percentile(_ sorted: [Int64], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        let index = min(max(rank - 1, 0), sorted.count - 1)
        return Double(sorted[index]) / 1e9
    }
}

/// Spreads calls over a keyspace without shared state between callers (splitmix64 of the caller
/// and its call number), so every side of the comparison hits random keys.
func pickKey(worker: Int, sequence: UInt64, keyspace: Int) -> UInt64 {
    var z = (UInt64(truncatingIfNeeded: worker) << 40) ^ sequence &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return z % UInt64(max(keyspace, 1))
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }

    var nanoseconds: Int64 {
        let (whole, fraction) = components
        return whole * 1_000_000_000 + fraction / 1_000_000_000
    }
}
