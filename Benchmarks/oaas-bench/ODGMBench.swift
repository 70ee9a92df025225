import Foundation
import GRPCCore
import GRPCTransports
import OaaSProto

/// Starts `oaas serve --role odgm` on a free loopback port with durable LMDB in a temp dir and
/// drives its DataService over gRPC, server and clients on the same gRPC transport engine.
struct ODGMBench {
    let binary: String
    let settings: Settings
    let transport: GRPCTransportKind
    static let collection = "bench"
    static let partitions: UInt64 = 16

    typealias DataClient = Oprc_DataService.Client<DataPathClientTransport>

    func run() async throws -> [CaseKey: Measurement] {
        let directory = try makeTemporaryDirectory("oaas-bench-odgm")
        defer { removeDirectory(directory) }
        let dataDirectory = (directory as NSString).appendingPathComponent("data")
        let port = try freeLoopbackPort()
        let server = try ChildProcess(
            name: "oaas",
            executable: binary,
            arguments: ["serve", "--role", "odgm"],
            environment: [
                "ODGM_HTTP_PORT": String(port),
                GRPCTransportKind.environmentKey: transport.rawValue,
                "ODGM_DATA_DIR": dataDirectory,
                "ODGM_COLLECTION": #"[{"name":"\#(Self.collection)","partition_count":\#(Self.partitions),"shard_type":"none"}]"#,
            ],
            logPath: (directory as NSString).appendingPathComponent("oaas.log")
        )
        do {
            try await waitUntilHealthy(server, port: port)
            progress("oaas serve --role odgm (\(transport)) ready on 127.0.0.1:\(port) (pid \(server.pid))")
            let results = try await withGRPCConnections(port: port, count: settings.connections, transport: transport) { connections in
                try await runCases(clients: connections.map { DataClient(wrapping: $0) }, server: server, dataDirectory: dataDirectory)
            }
            if let note = await server.stop() { printError("warning: \(note)") }
            return results
        } catch {
            let log = server.logTail()
            await server.stop(grace: .seconds(5))
            throw BenchError("\(error)\n--- end of oaas output ---\n\(log)")
        }
    }

    private func waitUntilHealthy(_ server: ChildProcess, port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !server.isRunning {
                throw BenchError("oaas exited with status \(server.exitStatus) before it was healthy")
            }
            if healthzIsOK(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("oaas did not answer GET /healthz with 200 within 30 s")
    }

    private func runCases(clients: [DataClient], server: ChildProcess, dataDirectory: String) async throws -> [CaseKey: Measurement] {
        let requests = Requests(valueSize: settings.valueSize, keyspace: settings.keyspace)
        try await prepopulate(clients: clients, requests: requests)
        progress("created \(settings.keyspace) objects")

        var results: [CaseKey: Measurement] = [:]
        for operation in Operation.allCases {
            for concurrency in settings.concurrencies {
                // One connection for a single caller; otherwise callers are spread over all of them.
                let used = concurrency == 1 ? [clients[0]] : clients
                let label = "ours/\(transport) \(operation.rawValue) @\(concurrency)"
                let serverBefore = server.cpuSeconds()
                let clientBefore = processCPUSeconds(pid: getpid())
                let commitsBefore = operation.baseline == .write ? LMDBCommits.committed(under: dataDirectory) : nil
                var measurement = try await Load.run(label, concurrency: concurrency, warmup: settings.warmup, duration: settings.duration) { worker, sequence in
                    let client = used[worker % used.count]
                    let id = pickKey(worker: worker, sequence: sequence, keyspace: requests.keyspace)
                    try await requests.call(operation, client: client, index: id, sequence: sequence)
                }
                let calls = Double(max(measurement.completed, 1))
                if let before = serverBefore, let after = server.cpuSeconds() { measurement.serverCPUPerOp = (after - before) / calls }
                if let before = clientBefore, let after = processCPUSeconds(pid: getpid()) { measurement.clientCPUPerOp = (after - before) / calls }
                if let before = commitsBefore, let after = LMDBCommits.committed(under: dataDirectory), after > before {
                    measurement.averageBatch = Double(measurement.completed) / Double(after - before)
                }
                results[CaseKey(operation: operation, concurrency: concurrency)] = measurement
                progress("\(label): \(Format.ops(measurement.opsPerSecond)) ops/s")
            }
        }
        return results
    }

    /// Creates every object of the keyspace so reads always hit, 64 callers at a time.
    private func prepopulate(clients: [DataClient], requests: Requests) async throws {
        let callers = 64
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    let client = clients[caller % clients.count]
                    for id in stride(from: caller, to: requests.keyspace, by: callers) {
                        do {
                            try await requests.call(.set, client: client, index: UInt64(id), sequence: 0)
                        } catch {
                            throw BenchError("creating object \(id) failed: \(error)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// Builds the four request kinds; every call is bounded by a deadline so the run always ends.
struct Requests: Sendable {
    let value: Oprc_ValData
    let keyspace: Int
    let options: CallOptions

    init(valueSize: Int, keyspace: Int) {
        var value = Oprc_ValData()
        value.data = Data(repeating: UInt8(ascii: "v"), count: valueSize)
        self.value = value
        self.keyspace = keyspace
        var options = CallOptions.defaults
        options.timeout = .seconds(10)
        self.options = options
    }

    /// `index` is in 0..<keyspace; object ids start at 1 because 0 means "unset" on the wire.
    func call(_ operation: Operation, client: ODGMBench.DataClient, index: UInt64, sequence: UInt64) async throws {
        let id = index + 1
        let partition = UInt32(id % ODGMBench.partitions)
        switch operation {
        case .set:
            var request = Oprc_SetObjectRequest()
            request.clsID = ODGMBench.collection
            request.partitionID = Int32(partition)
            request.objectID = id
            request.object.entries = [1: value, 2: value]
            _ = try await client.set(request, options: options)
        case .get:
            var request = Oprc_SingleObjectRequest()
            request.clsID = ODGMBench.collection
            request.partitionID = partition
            request.objectID = id
            let response = try await client.get(request, options: options)
            guard response.obj.entries.count == 2 else {
                throw BenchError("Get of object \(id) returned \(response.obj.entries.count) entries, expected 2")
            }
        case .setValue:
            var request = Oprc_SetKeyRequest()
            request.clsID = ODGMBench.collection
            request.partitionID = Int32(partition)
            request.objectID = id
            request.key = 1 + UInt32(sequence & 1)
            request.value = value
            _ = try await client.setValue(request, options: options)
        case .getValue:
            var request = Oprc_SingleKeyRequest()
            request.clsID = ODGMBench.collection
            request.partitionID = partition
            request.objectID = id
            request.key = 1 + UInt32(sequence & 1)
            let response = try await client.getValue(request, options: options)
            guard response.value.data.count == value.data.count else {
                throw BenchError("GetValue of object \(id) returned \(response.value.data.count) bytes, expected \(value.data.count)")
            }
        }
    }
}
