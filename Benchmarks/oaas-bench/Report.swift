import Foundation
import GRPCTransports

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

    /// The engine the targets are checked on (the first measured: nghttp2 unless told otherwise).
    private var primary: GRPCTransportKind { settings.transports.first ?? .nghttp2 }

    private func ours(_ kind: GRPCTransportKind, _ operation: Operation, _ concurrency: Int) -> Measurement? {
        results.ours[kind]?[CaseKey(operation: operation, concurrency: concurrency)]
    }

    private func table(_ operation: Operation) -> [String] {
        let kind = operation.baseline
        let engines = settings.transports
        let others = engines.dropFirst()
        var header = "clients |"
        for engine in engines { header += Format.pad("\(engine) ops/s", 11) + "      p50      p99 |" }
        header += "  lmdb ops/s      p50      p99 | redis ops/s      p50      p99 | " + Format.pad("\(primary)/redis", 13)
        for other in others { header += " " + Format.pad("\(primary)/\(other)", 13) }
        header += " " + Format.pad("\(primary)/lmdb", 13)
        var lines = [
            "== \(operation.rawValue) ==  ours: \(operation.describesOurs) | lmdb: \(kind.lmdb) | redis: \(kind.redis)",
            header,
        ]
        for concurrency in settings.concurrencies {
            let lmdb = results.lmdb[BaselineKey(kind: kind, concurrency: concurrency)]
            let redis = results.redis[BaselineKey(kind: kind, concurrency: concurrency)]
            let mine = ours(primary, operation, concurrency)
            var line = Format.pad(String(concurrency), 7) + " | "
            for engine in engines { line += cells(ours(engine, operation, concurrency)) + " | " }
            line += cells(lmdb) + " | " + cells(redis) + " | " + Format.pad(Format.ratio(ratio(mine, redis)), 13)
            for other in others { line += " " + Format.pad(Format.ratio(ratio(mine, ours(other, operation, concurrency))), 13) }
            line += " " + Format.pad(Format.ratio(ratio(mine, lmdb)), 13)
            lines.append(line)
        }
        return lines
    }

    private func targets() -> [String] {
        var lines = ["== Targets (64 clients, \(primary) transport) =="]
        let goals: [(label: String, operation: Operation, baseline: String, target: Double)] = [
            ("durable SetValue @64", .setValue, "Redis-always SET", 1.0),
            ("GetValue @64", .getValue, "Redis GET", 0.5),
        ]
        for goal in goals {
            let mine = ours(primary, goal.operation, 64)
            let redis = results.redis[BaselineKey(kind: goal.operation.baseline, concurrency: 64)]
            guard let mine, let redis, let achieved = ratio(mine, redis) else {
                lines.append("\(goal.label): not evaluated — \(results.redisNote ?? "no measurement")")
                continue
            }
            lines.append(
                "\(goal.label): \(Format.ratio(achieved)) \(goal.baseline) (target \(String(format: "%.1f", goal.target))x) — "
                    + verdict(achieved, goal.target) + " [ours \(Format.ops(mine.opsPerSecond)) ops/s, redis \(Format.ops(redis.opsPerSecond)) ops/s]"
            )
        }
        // Call overhead: CPU per call on both sides of the wire. GetValue does almost no work of its own (an LMDB
        // read and two small protobuf messages), so its CPU per call is the transport's and GRPCCore's.
        for other in settings.transports.dropFirst() {
            for operation in [Operation.getValue, .setValue] {
                let label = "call overhead \(operation.rawValue) @64 (server+client CPU per call, \(other) / \(primary))"
                guard let mine = ours(primary, operation, 64)?.cpuPerCall, let theirs = ours(other, operation, 64)?.cpuPerCall, mine > 0 else {
                    lines.append("\(label): not evaluated — no CPU figures")
                    continue
                }
                let factor = theirs / mine
                lines.append(
                    "\(label): \(String(format: "%.2f", factor))x lower (target 3.0x) — " + verdict(factor, 3.0)
                        + " [\(primary) \(Format.micros(mine)), \(other) \(Format.micros(theirs))]"
                )
            }
        }
        return lines
    }

    private func verdict(_ achieved: Double, _ target: Double) -> String {
        if achieved >= target { return "MET" }
        return "MISSED by \(Format.ratio(target - achieved)) (needs \(String(format: "%.1f", target / achieved))x)"
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
        for engine in settings.transports {
            for operation in Operation.allCases {
                for concurrency in settings.concurrencies {
                    row("\(engine) \(operation.rawValue) @\(concurrency)", ours(engine, operation, concurrency))
                }
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
