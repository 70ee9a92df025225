import Foundation

/// Number formatting shared by progress lines and the report.
enum Format {
    /// Whole operations per second with thousands separators ("12,345").
    static func ops(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        let digits = String(Int(value.rounded()))
        var grouped = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        return String(grouped.reversed())
    }

    /// A latency in seconds, in µs below a millisecond and ms above.
    static func latency(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "-" }
        if seconds < 1e-3 { return String(format: "%.1fµs", seconds * 1e6) }
        return String(format: "%.2fms", seconds * 1e3)
    }

    static func ratio(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: value < 0.1 ? "%.3fx" : "%.2fx", value)
    }

    static func batch(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.1f", value)
    }

    static func micros(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "-" }
        return String(format: "%.1fµs", seconds * 1e6)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    static func padRight(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

struct Report {
    let results: Results
    let settings: Settings

    func render() -> String {
        var lines: [String] = []
        for operation in Operation.allCases {
            lines += table(operation)
            lines.append("")
        }
        lines += targets()
        lines.append("")
        lines += timeBreakdown()
        return lines.joined(separator: "\n")
    }

    private func ratio(_ ours: Measurement?, _ other: Measurement?) -> Double? {
        guard let ours, let other, other.opsPerSecond > 0 else { return nil }
        return ours.opsPerSecond / other.opsPerSecond
    }

    private func cells(_ measurement: Measurement?) -> String {
        Format.pad(Format.ops(measurement?.opsPerSecond), 11) + " "
            + Format.pad(Format.latency(measurement?.p50), 8) + " "
            + Format.pad(Format.latency(measurement?.p99), 8)
    }

    private func table(_ operation: Operation) -> [String] {
        let kind = operation.baseline
        var lines = [
            "== \(operation.rawValue) ==  ours: \(operation.describesOurs) | lmdb: \(kind.lmdb) | redis: \(kind.redis)",
            "clients |  ours ops/s      p50      p99 |  lmdb ops/s      p50      p99 | redis ops/s      p50      p99 | ours/redis  ours/lmdb",
        ]
        for concurrency in settings.concurrencies {
            let ours = results.ours[CaseKey(operation: operation, concurrency: concurrency)]
            let lmdb = results.lmdb[BaselineKey(kind: kind, concurrency: concurrency)]
            let redis = results.redis[BaselineKey(kind: kind, concurrency: concurrency)]
            lines.append(
                Format.pad(String(concurrency), 7) + " | " + cells(ours) + " | " + cells(lmdb) + " | " + cells(redis) + " | "
                    + Format.pad(Format.ratio(ratio(ours, redis)), 10) + " " + Format.pad(Format.ratio(ratio(ours, lmdb)), 10)
            )
        }
        return lines
    }

    private func targets() -> [String] {
        var lines = ["== Targets (64 clients) =="]
        let goals: [(label: String, operation: Operation, baseline: String, target: Double)] = [
            ("durable SetValue @64", .setValue, "Redis-always SET", 1.0),
            ("GetValue @64", .getValue, "Redis GET", 0.5),
        ]
        for goal in goals {
            let ours = results.ours[CaseKey(operation: goal.operation, concurrency: 64)]
            let redis = results.redis[BaselineKey(kind: goal.operation.baseline, concurrency: 64)]
            guard let ours, let redis, let achieved = ratio(ours, redis) else {
                lines.append("\(goal.label): not evaluated — \(results.redisNote ?? "no measurement")")
                continue
            }
            let verdict: String
            if achieved >= goal.target {
                verdict = "MET"
            } else {
                let short = goal.target - achieved
                verdict = "MISSED by \(Format.ratio(short)) (needs \(String(format: "%.1f", goal.target / achieved))x the throughput)"
            }
            lines.append(
                "\(goal.label): \(Format.ratio(achieved)) \(goal.baseline) (target \(String(format: "%.1f", goal.target))x) — \(verdict)"
                    + " [ours \(Format.ops(ours.opsPerSecond)) ops/s, redis \(Format.ops(redis.opsPerSecond)) ops/s]"
            )
        }
        return lines
    }

    /// CPU per call and group-commit batching: where the time goes on a machine whose cores are
    /// shared by the server and the load generator.
    private func timeBreakdown() -> [String] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var lines = [
            "== Where the time goes (CPU per call incl. warm-up; \(cores) cores shared by server and load generator) ==",
            "case                 |  server CPU   client CPU   cores busy | commits/s  calls/commit",
        ]
        func row(_ name: String, _ m: Measurement?) {
            guard let m else { return }
            let busy = ((m.serverCPUPerOp ?? 0) + (m.clientCPUPerOp ?? 0)) * m.opsPerSecond
            let commits = m.averageBatch.map { m.opsPerSecond / $0 }
            lines.append(
                Format.padRight(name, 20) + " | " + Format.pad(Format.micros(m.serverCPUPerOp), 11) + "  "
                    + Format.pad(Format.micros(m.clientCPUPerOp), 11) + "  " + Format.pad(String(format: "%.2f", busy), 11)
                    + " | " + Format.pad(Format.ops(commits), 9) + "  " + Format.pad(Format.batch(m.averageBatch), 12)
            )
        }
        for operation in Operation.allCases {
            for concurrency in settings.concurrencies {
                row("ours \(operation.rawValue) @\(concurrency)", results.ours[CaseKey(operation: operation, concurrency: concurrency)])
            }
        }
        for kind in [BaselineKind.write, .read] {
            for concurrency in settings.concurrencies {
                // The LMDB baseline runs in this process: its CPU is all "client".
                row("lmdb \(kind == .write ? "put" : "get") @\(concurrency)", results.lmdb[BaselineKey(kind: kind, concurrency: concurrency)])
            }
        }
        for kind in [BaselineKind.write, .read] {
            for concurrency in settings.concurrencies {
                row("redis \(kind == .write ? "SET" : "GET") @\(concurrency)", results.redis[BaselineKey(kind: kind, concurrency: concurrency)])
            }
        }
        if let note = results.redisNote { lines.append("redis baseline skipped: \(note)") }
        return lines
    }
}
