import ArgumentParser
import Foundation
import GRPCTransports

/// `oaas-bench --oaas PATH`: the data path of a real `oaas serve --role odgm` process over gRPC,
/// next to two baselines measured in the same run (raw LMDB through Storage, and Redis with
/// `appendfsync always`), with the targets checked at the end.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oaas-bench",
        abstract: "Benchmark ODGM's gRPC data path against raw LMDB and Redis on loopback."
    )

    @Option(name: .long, help: "Path of the oaas binary to start as `serve --role odgm`.")
    var oaas: String

    @Option(name: .customLong("oaas-functions"), help: "Path of the example function runtime; adds the invocation-path cases.")
    var functions: String?

    @Option(name: .long, help: "Seconds measured per case (after a short warm-up).")
    var duration: Double = 3

    @Flag(name: .long, help: "One second per case: a smoke test, not a measurement.")
    var quick = false

    @Option(name: .long, help: "Comma-separated gRPC transports to measure (server and clients alike): nghttp2, nio.")
    var transports: String = "nghttp2,nio"

    func validate() throws {
        _ = try parsedTransports()
        guard duration > 0, duration <= 60 else { throw ValidationError("--duration must be in (0, 60] seconds") }
        guard FileManager.default.isExecutableFile(atPath: oaas) else {
            throw ValidationError("--oaas \(oaas): not an executable file (build it with `swift build -c release --product oaas`)")
        }
        if let functions, !FileManager.default.isExecutableFile(atPath: functions) {
            throw ValidationError("--oaas-functions \(functions): not an executable file (swift build -c release --product oaas-functions)")
        }
    }

    private func parsedTransports() throws -> [GRPCTransportKind] {
        var kinds: [GRPCTransportKind] = []
        for item in transports.split(separator: ",") {
            guard let kind = GRPCTransportKind(rawValue: item.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("--transports: \"\(item)\" is not a transport; use nghttp2 and/or nio")
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        guard !kinds.isEmpty else { throw ValidationError("--transports: name at least one of nghttp2, nio") }
        return kinds
    }

    func run() async throws {
        let seconds = quick ? 1 : duration
        var settings = Settings(
            duration: .milliseconds(Int((seconds * 1000).rounded())),
            warmup: .milliseconds(quick ? 200 : 500)
        )
        settings.transports = try parsedTransports()
        print(
            "oaas-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Format.batch(seconds)) s per case after "
                + "\(Format.batch(settings.warmup.seconds)) s warm-up, clients \(settings.concurrencies.map(String.init).joined(separator: "/")), "
                + "\(settings.connections) HTTP/2 connections when concurrent, \(settings.keyspace) keys, \(settings.valueSize)-byte values, loopback only"
        )
        var results = Results()
        var invocation: InvocationBench.Figures?
        do {
            if let functions {
                invocation = try await InvocationBench(oaas: oaas, functions: functions, settings: settings).run()
            }
            for transport in settings.transports {
                results.ours[transport] = try await ODGMBench(binary: oaas, settings: settings, transport: transport).run()
            }
            results.lmdb = try await LMDBBench(settings: settings).run()
            switch try await RedisBench(settings: settings).run() {
            case .measured(let measured):
                results.redis = measured
            case .unavailable(let note):
                results.redisNote = note
                printError("note: Redis baseline skipped: \(note)")
            }
        } catch {
            printError("oaas-bench: \(error)")
            throw ExitCode.failure
        }
        print("")
        print(Report(results: results, settings: settings).render())
        if let invocation {
            print("")
            print(InvocationReport(figures: invocation).render())
        }
    }
}
