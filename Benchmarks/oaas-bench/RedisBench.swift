import Foundation

/// The external yardstick: redis-server on loopback with `appendfsync always` (every write
/// acknowledged only after the AOF is fsynced, like our durable commits), driven by
/// redis-benchmark at the same concurrency, value size and keyspace.
struct RedisBench {
    let settings: Settings

    enum Outcome {
        case measured([BaselineKey: Measurement])
        case unavailable(String)
    }

    func run() async throws -> Outcome {
        guard let serverPath = findExecutable("redis-server") else {
            return .unavailable("redis-server not found on PATH (Debian package redis-server; `make deps` installs it)")
        }
        guard let benchmarkPath = findExecutable("redis-benchmark") else {
            return .unavailable("redis-benchmark not found on PATH (Debian package redis-tools; `make deps` installs it)")
        }
        let directory = try makeTemporaryDirectory("oaas-bench-redis")
        defer { removeDirectory(directory) }
        let port = try freeLoopbackPort()
        let server = try ChildProcess(
            name: "redis-server",
            executable: serverPath,
            arguments: [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                "--appendfsync", "always", "--dir", directory, "--daemonize", "no",
            ],
            logPath: (directory as NSString).appendingPathComponent("redis.log")
        )
        do {
            try await waitUntilReady(server, port: port)
            progress("redis-server ready on 127.0.0.1:\(port) (pid \(server.pid))")
            var results: [BaselineKey: Measurement] = [:]
            // SET first: it also fills the keyspace the GET runs read.
            for kind in [BaselineKind.write, .read] {
                for concurrency in settings.concurrencies {
                    let measurement = try await measure(kind, concurrency: concurrency, port: port, server: server, benchmark: benchmarkPath, directory: directory)
                    results[BaselineKey(kind: kind, concurrency: concurrency)] = measurement
                    progress("redis \(kind == .write ? "SET" : "GET") @\(concurrency): \(Format.ops(measurement.opsPerSecond)) ops/s")
                }
            }
            if let note = await server.stop() { printError("warning: \(note)") }
            return .measured(results)
        } catch {
            let log = server.logTail()
            await server.stop(grace: .seconds(5))
            throw BenchError("\(error)\n--- end of redis-server output ---\n\(log)")
        }
    }

    private func waitUntilReady(_ server: ChildProcess, port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if !server.isRunning { throw BenchError("redis-server exited with status \(server.exitStatus) at start-up") }
            if loopbackExchange(port: port, request: "PING\r\n", done: { $0.contains("\r\n") })?.hasPrefix("+PONG") == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("redis-server did not answer PING within 15 s")
    }

    /// redis-benchmark takes a request count, not a duration: a short calibration run (which also
    /// warms up) sets the count for a run of about `settings.duration`.
    private func measure(_ kind: BaselineKind, concurrency: Int, port: Int, server: ChildProcess, benchmark: String, directory: String) async throws -> Measurement {
        let test = kind == .write ? "set" : "get"
        let calibrationCount = (kind == .write ? 300 : 3000) * (concurrency == 1 ? 1 : 10)
        let calibration = try await runBenchmark(test, concurrency: concurrency, requests: calibrationCount, port: port, benchmark: benchmark, directory: directory)
        let target = Int(calibration.rps * settings.duration.seconds)
        let requests = min(max(target, calibrationCount), 5_000_000)
        let cpuBefore = server.cpuSeconds()
        var result = try await runBenchmark(test, concurrency: concurrency, requests: requests, port: port, benchmark: benchmark, directory: directory)
        if let before = cpuBefore, let after = server.cpuSeconds() {
            result.measurement.serverCPUPerOp = (after - before) / Double(requests)
        }
        return result.measurement
    }

    private func runBenchmark(_ test: String, concurrency: Int, requests: Int, port: Int, benchmark: String, directory: String) async throws -> (rps: Double, measurement: Measurement) {
        let arguments = [
            "-h", "127.0.0.1", "-p", String(port), "-t", test, "-c", String(concurrency), "-n", String(requests),
            "-d", String(settings.valueSize), "-P", "1", "-r", String(settings.keyspace), "--precision", "3", "--csv",
        ]
        // Generous bound: a healthy run takes about `duration`; a stuck one must not hang the bench.
        let timeout = Duration.seconds(max(60, settings.duration.seconds * 10))
        let (status, output) = try await runToCompletion(
            "redis-benchmark", executable: benchmark, arguments: arguments,
            logPath: (directory as NSString).appendingPathComponent("redis-benchmark.out"), timeout: timeout
        )
        guard status == 0 else {
            throw BenchError("redis-benchmark \(arguments.joined(separator: " ")) exited with \(status):\n\(output)")
        }
        guard let row = Self.parseCSV(output, test: test.uppercased()) else {
            throw BenchError("could not find a \(test.uppercased()) row with an rps column in redis-benchmark's --csv output:\n\(output)")
        }
        let measurement = Measurement(
            opsPerSecond: row.rps,
            p50: row.p50Milliseconds.map { $0 / 1000 },
            p99: row.p99Milliseconds.map { $0 / 1000 },
            completed: requests
        )
        return (row.rps, measurement)
    }

    struct Row {
        var rps: Double
        var p50Milliseconds: Double?
        var p99Milliseconds: Double?
    }

    /// Reads redis-benchmark's CSV: a header ("test","rps","avg_latency_ms",...,"p50_latency_ms",...)
    /// then one row per test. Older versions print only test and rps; percentiles are then nil.
    static func parseCSV(_ text: String, test: String) -> Row? {
        func fields(_ line: Substring) -> [String] {
            line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        var header: [String] = ["test", "rps"]
        for line in text.split(whereSeparator: \.isNewline) {
            let columns = fields(line)
            if columns.first == "test" {
                header = columns
                continue
            }
            guard columns.first == test else { continue }
            func column(_ name: String) -> Double? {
                guard let index = header.firstIndex(of: name), index < columns.count else { return nil }
                return Double(columns[index])
            }
            guard let rps = column("rps") else { return nil }
            return Row(rps: rps, p50Milliseconds: column("p50_latency_ms"), p99Milliseconds: column("p99_latency_ms"))
        }
        return nil
    }
}
