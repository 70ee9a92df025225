import Foundation
import Synchronization
import GRPCCore
import GRPCTransports
import OaaSProto

/// The invocation path (issue: added latency of gateway → ODGM → function over a direct call): three real
/// processes — `oaas-functions`, `oaas serve --role odgm` routing `echo` to it, `oaas serve --role gateway` in
/// front — and the same `InvokeFn(echo)` sent straight to the runtime and through the gateway, at a fixed
/// 1,000 calls/s (open loop: latency counts from the call's scheduled start, so a stall is not hidden) and at
/// the peak a closed loop of 64 callers reaches.
struct InvocationBench {
    let oaas: String
    let functions: String
    let settings: Settings
    static let rate = 1000
    static let peakCallers = 64

    typealias FunctionClient = Oprc_OprcFunction.Client<DataPathClientTransport>

    struct Figures: Sendable {
        var directFixed: Measurement
        var gatewayFixed: Measurement
        var directPeak: Measurement
        var gatewayPeak: Measurement
    }

    func run() async throws -> Figures {
        let directory = try makeTemporaryDirectory("oaas-bench-invoke")
        defer { removeDirectory(directory) }
        let functionsPort = try freeLoopbackPort()
        let odgmPort = try freeLoopbackPort()
        let gatewayPort = try freeLoopbackPort()
        let log = { (name: String) in (directory as NSString).appendingPathComponent("\(name).log") }
        var started: [ChildProcess] = []
        do {
            let runtime = try ChildProcess(
                name: "oaas-functions", executable: functions,
                arguments: ["--port", String(functionsPort), "--host", "127.0.0.1", "--functions", "echo"],
                logPath: log("functions"))
            started.append(runtime)
            let collection = #"[{"name":"bench","partition_count":4,"shard_type":"none","invocations":{"fn_routes":{"echo":{"url":"http://127.0.0.1:\#(functionsPort)","stateless":true}}}}]"#
            let odgm = try ChildProcess(
                name: "oaas odgm", executable: oaas, arguments: ["serve", "--role", "odgm"],
                environment: [
                    "ODGM_HTTP_PORT": String(odgmPort),
                    "ODGM_DATA_DIR": (directory as NSString).appendingPathComponent("data"),
                    "ODGM_COLLECTION": collection,
                    "LOG_LEVEL": "warning",
                ],
                logPath: log("odgm"))
            started.append(odgm)
            let gateway = try ChildProcess(
                name: "oaas gateway", executable: oaas, arguments: ["serve", "--role", "gateway"],
                environment: [
                    "HTTP_PORT": String(gatewayPort),
                    "DEFAULT_ODGM_URL": "http://127.0.0.1:\(odgmPort)",
                    "LOG_LEVEL": "warning",
                ],
                logPath: log("gateway"))
            started.append(gateway)
            try await waitUntilServing(runtime, port: functionsPort)
            try await waitUntilHealthy(odgm, port: odgmPort)
            try await waitUntilHealthy(gateway, port: gatewayPort)
            progress("invocation path ready: oaas-functions :\(functionsPort), odgm :\(odgmPort), gateway :\(gatewayPort)")
            let count = settings.connections
            let kind = GRPCTransportKind.nghttp2
            let figures = try await withGRPCConnections(port: functionsPort, count: count, transport: kind) { direct in
                try await withGRPCConnections(port: gatewayPort, count: count, transport: kind) { viaGateway in
                    try await measure(direct: direct.map { FunctionClient(wrapping: $0) }, viaGateway: viaGateway.map { FunctionClient(wrapping: $0) })
                }
            }
            for process in started.reversed() { _ = await process.stop(grace: .seconds(5)) }
            return figures
        } catch {
            let tails = started.map { "--- \($0.name) ---\n\($0.logTail())" }.joined(separator: "\n")
            for process in started.reversed() { _ = await process.stop(grace: .seconds(5)) }
            throw BenchError("\(error)\n\(tails)")
        }
    }

    private func measure(direct: [FunctionClient], viaGateway: [FunctionClient]) async throws -> Figures {
        let request = Oprc_InvocationRequest.with {
            $0.clsID = "bench"
            $0.partitionID = 0
            $0.fnID = "echo"
            $0.payload = Data(repeating: 0x61, count: 64)
        }
        @Sendable func call(_ clients: [FunctionClient], _ index: UInt64) async throws {
            let response = try await clients[Int(index % UInt64(clients.count))].invokeFn(request)
            guard response.status == .okay else { throw BenchError("echo answered \(response.status): \(String(decoding: response.payload, as: UTF8.self))") }
        }
        // Interleaved so that neither side gets the warmer machine.
        let directFixed = try await FixedRate.run("direct InvokeFn @\(Self.rate)/s", rate: Self.rate,
                                                  warmup: settings.warmup, duration: settings.duration) { try await call(direct, $0) }
        let gatewayFixed = try await FixedRate.run("gateway InvokeFn @\(Self.rate)/s", rate: Self.rate,
                                                   warmup: settings.warmup, duration: settings.duration) { try await call(viaGateway, $0) }
        let directPeak = try await Load.run("direct InvokeFn peak", concurrency: Self.peakCallers, warmup: settings.warmup,
                                            duration: settings.duration) { worker, sequence in
            try await call(direct, UInt64(worker) &+ sequence)
        }
        let gatewayPeak = try await Load.run("gateway InvokeFn peak", concurrency: Self.peakCallers, warmup: settings.warmup,
                                             duration: settings.duration) { worker, sequence in
            try await call(viaGateway, UInt64(worker) &+ sequence)
        }
        return Figures(directFixed: directFixed, gatewayFixed: gatewayFixed, directPeak: directPeak, gatewayPeak: gatewayPeak)
    }

    private func waitUntilServing(_ process: ChildProcess, port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw BenchError("\(process.name) exited with \(process.exitStatus) at start") }
            if (try? String(contentsOfFile: process.logPath, encoding: .utf8))?.contains("listening on \(port)") == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("\(process.name) did not report 'listening on \(port)' within 30 s")
    }

    private func waitUntilHealthy(_ process: ChildProcess, port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw BenchError("\(process.name) exited with \(process.exitStatus) at start") }
            if healthzIsOK(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("\(process.name) did not answer GET /healthz with 200 within 30 s")
    }
}

/// An open-loop generator: one call every 1/rate seconds whatever the previous calls are doing, each timed from
/// its scheduled start. Calls still open when more than `maxInFlight` are pending count as failures (the side
/// under test cannot sustain the rate).
enum FixedRate {
    private struct Tally {
        var latencies: [Int64] = []
        var completed = 0
        var failures = 0
        var firstError: String?
    }

    /// Shared by the caller tasks of one run.
    private final class State: Sendable {
        let tally = Mutex(Tally())
        let inFlight = Atomic<Int>(0)
    }

    static func run(_ label: String, rate: Int, warmup: Duration, duration: Duration, maxInFlight: Int = 2000,
                    _ operation: @escaping @Sendable (UInt64) async throws -> Void) async throws -> Measurement {
        let clock = ContinuousClock()
        let interval = Duration.seconds(1) / rate
        let start = clock.now + .milliseconds(20)
        let measureFrom = start + warmup
        let total = Int((warmup + duration) / interval)
        let state = State()
        try await withThrowingDiscardingTaskGroup { group in
            for index in 0..<total {
                let scheduled = start + interval * index
                try await clock.sleep(until: scheduled, tolerance: .microseconds(50))
                guard state.inFlight.load(ordering: .relaxed) < maxInFlight else {
                    state.tally.withLock {
                        $0.failures += 1
                        $0.firstError = $0.firstError ?? "more than \(maxInFlight) calls in flight"
                    }
                    continue
                }
                state.inFlight.add(1, ordering: .relaxed)
                let recorded = scheduled >= measureFrom
                group.addTask {
                    defer { state.inFlight.subtract(1, ordering: .relaxed) }
                    do {
                        try await operation(UInt64(index))
                        let latency = (clock.now - scheduled).nanoseconds
                        state.tally.withLock {
                            $0.completed += 1
                            if recorded { $0.latencies.append(latency) }
                        }
                    } catch {
                        state.tally.withLock {
                            $0.failures += 1
                            if $0.firstError == nil { $0.firstError = String(describing: error) }
                        }
                    }
                }
            }
        }
        var result = state.tally.withLock { $0 }
        if result.failures > 0 {
            throw BenchError("\(label): \(result.failures) of \(result.failures + result.completed) calls failed; first failure: \(result.firstError ?? "?")")
        }
        guard !result.latencies.isEmpty else { throw BenchError("\(label): no call was measured") }
        result.latencies.sort()
        return Measurement(
            opsPerSecond: Double(result.latencies.count) / duration.seconds,
            p50: Load.percentile(result.latencies, 0.50),
            p99: Load.percentile(result.latencies, 0.99),
            completed: result.completed
        )
    }
}

/// The invocation section of the report: both paths side by side, the added latency, and the issue's targets
/// (≤ 0.3 ms added at p50, ≤ 1 ms at p99, at 1,000 calls/s).
struct InvocationReport {
    let figures: InvocationBench.Figures
    static let p50Target = 0.000_3
    static let p99Target = 0.001

    func render() -> String {
        let f = figures
        var lines = [
            "Invocation path: InvokeFn(echo, 64 B) straight to oaas-functions vs gateway -> ODGM -> oaas-functions",
            Format.padRight("case", 28) + " | " + Format.pad("calls/s", 11) + " " + Format.pad("p50", 8) + " " + Format.pad("p99", 8),
        ]
        for (name, m) in [("direct @\(InvocationBench.rate)/s", f.directFixed), ("via gateway @\(InvocationBench.rate)/s", f.gatewayFixed),
                          ("direct peak (\(InvocationBench.peakCallers) callers)", f.directPeak),
                          ("via gateway peak (\(InvocationBench.peakCallers))", f.gatewayPeak)] {
            lines.append(Format.padRight(name, 28) + " | " + Format.pad(Format.ops(m.opsPerSecond), 11) + " "
                         + Format.pad(Format.latency(m.p50), 8) + " " + Format.pad(Format.latency(m.p99), 8))
        }
        let added50 = (f.gatewayFixed.p50 ?? 0) - (f.directFixed.p50 ?? 0)
        let added99 = (f.gatewayFixed.p99 ?? 0) - (f.directFixed.p99 ?? 0)
        lines.append("added at \(InvocationBench.rate)/s: p50 \(Format.latency(added50)) (target <= 0.3 ms: \(added50 <= Self.p50Target ? "met" : "MISSED")), "
                     + "p99 \(Format.latency(added99)) (target <= 1 ms: \(added99 <= Self.p99Target ? "met" : "MISSED"))")
        let share = f.gatewayPeak.opsPerSecond / max(f.directPeak.opsPerSecond, 1)
        lines.append("peak through the gateway: \(Format.ratio(share)) of the direct peak (two extra gRPC hops on the same 2 cores)")
        return lines.joined(separator: "\n")
    }
}
