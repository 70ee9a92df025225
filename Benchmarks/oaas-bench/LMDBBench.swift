import Foundation
import Storage

/// The storage floor: the same LMDB, through our Storage module, in this process. Writes go one put
/// per `Writer.write` call so group commit batches concurrent callers exactly as it does in ODGM.
struct LMDBBench {
    let settings: Settings

    func run() async throws -> [BaselineKey: Measurement] {
        let directory = try makeTemporaryDirectory("oaas-bench-lmdb")
        defer { removeDirectory(directory) }
        let environment: Environment
        do {
            environment = try Environment(path: directory, options: .init(mapSizeBytes: 1 << 30, maxDatabases: 4, durable: true))
        } catch {
            throw BenchError("cannot open LMDB in \(directory): \(error)")
        }
        let writer = Writer(environment: environment)
        defer {
            writer.stop()
            environment.close()
        }
        let database = try environment.openDatabase("bench")
        let keyspace = settings.keyspace
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: settings.valueSize)
        try environment.writeDirect { txn in
            for id in 0..<keyspace { try txn.put(database, Self.key(UInt64(id)), value) }
        }

        var results: [BaselineKey: Measurement] = [:]
        for concurrency in settings.concurrencies {
            let label = "lmdb put @\(concurrency)"
            let statsBefore = writer.stats
            let commitsBefore = LMDBCommits.committed(under: directory)
            let cpuBefore = processCPUSeconds(pid: getpid())
            var measurement = try await Load.run(label, concurrency: concurrency, warmup: settings.warmup, duration: settings.duration) { worker, sequence in
                let key = Self.key(pickKey(worker: worker, sequence: sequence, keyspace: keyspace))
                try await writer.write { txn in try txn.put(database, key, value) }
            }
            let statsAfter = writer.stats
            let commits = statsAfter.commits - statsBefore.commits
            if commits > 0 { measurement.averageBatch = Double(statsAfter.mutations - statsBefore.mutations) / Double(commits) }
            if let before = cpuBefore, let after = processCPUSeconds(pid: getpid()) {
                measurement.clientCPUPerOp = (after - before) / Double(max(measurement.completed, 1))
            }
            // Cross-checks the meta-page reader used on the ODGM process against the writer's own count.
            if let before = commitsBefore, let after = LMDBCommits.committed(under: directory), after - before != commits {
                printError("warning: LMDB meta pages show \(after - before) commits, the writer counted \(commits); ODGM batch figures may be off")
            }
            results[BaselineKey(kind: .write, concurrency: concurrency)] = measurement
            progress("\(label): \(Format.ops(measurement.opsPerSecond)) ops/s, \(Format.batch(measurement.averageBatch)) puts per commit")
        }
        for concurrency in settings.concurrencies {
            let label = "lmdb get @\(concurrency)"
            let cpuBefore = processCPUSeconds(pid: getpid())
            var measurement = try await Load.run(label, concurrency: concurrency, warmup: settings.warmup, duration: settings.duration, yieldBetweenCalls: true) { worker, sequence in
                let key = Self.key(pickKey(worker: worker, sequence: sequence, keyspace: keyspace))
                let stored = try environment.read { txn in try txn.get(database, key) }
                guard stored?.count == value.count else { throw BenchError("key \(key) missing from the LMDB baseline") }
            }
            if let before = cpuBefore, let after = processCPUSeconds(pid: getpid()) {
                measurement.clientCPUPerOp = (after - before) / Double(max(measurement.completed, 1))
            }
            results[BaselineKey(kind: .read, concurrency: concurrency)] = measurement
            progress("\(label): \(Format.ops(measurement.opsPerSecond)) ops/s")
        }
        return results
    }

    /// A key shaped like ODGM's entry keys: (partition, object id, entry key), big-endian.
    static func key(_ id: UInt64) -> [UInt8] {
        var encoder = KeyEncoder(capacity: 24)
        encoder.append(tag: 1)
        encoder.append(UInt32(id % 16))
        encoder.append(id)
        encoder.append(tag: 2)
        encoder.append(UInt32(1))
        return encoder.bytes
    }
}
