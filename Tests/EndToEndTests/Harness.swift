import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSProto
import Testing

/// The `oaas` binary under test: `OAAS_BIN` (set by `make test`), else the debug build.
var oaasBinary: String {
    if let path = ProcessInfo.processInfo.environment["OAAS_BIN"], !path.isEmpty { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/oaas").path
}

/// The example function runtime: `OAAS_FUNCTIONS_BIN` (set by `make test`), else next to the `oaas` binary.
var functionsBinary: String {
    if let path = ProcessInfo.processInfo.environment["OAAS_FUNCTIONS_BIN"], !path.isEmpty { return path }
    return (oaasBinary as NSString).deletingLastPathComponent + "/oaas-functions"
}

/// Ports this test process has handed out: the kernel may offer a just-closed port again, and two listeners of one
/// test must not get the same one.
private let handedOutPorts = Mutex<Set<Int>>([])

/// A loopback port that was free a moment ago and that no other caller in this process got.
func freePort() -> Int {
    while true {
        let port = ephemeralPort()
        if port > 0, handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
}

private func ephemeralPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

func temporaryDirectory() -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-e2e-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A running `oaas` process, stopped (SIGKILL if still alive) when released.
final class OaasProcess: @unchecked Sendable {
    let process = Process()
    let stdout = Pipe()
    let stderr = Pipe()
    let port: Int
    private let output = OutputBuffer()

    /// Starts `oaas <arguments>` (or another of our binaries) and waits until `/healthz` answers on `port`.
    init(_ arguments: [String], port: Int, environment: [String: String] = [:], waitReady: Bool = true,
         executable: String = oaasBinary) async throws {
        self.port = port
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["LOG_FORMAT"] = "text"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = stdout
        process.standardError = stderr
        let buffer = output
        for pipe in [stdout, stderr] {
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if !data.isEmpty { buffer.append(data) }
            }
        }
        try process.run()
        if waitReady { try await waitUntilHealthy() }
    }

    func waitUntilHealthy(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw HarnessError("oaas exited with \(process.terminationStatus) before it was ready:\n\(log)")
            }
            if let (status, _, _) = try? await http("GET", "/healthz", timeout: 1), status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("oaas was not healthy within \(timeout):\n\(log)")
    }

    var log: String { output.text }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for exit and returns the status.
    func waitForExit(timeout: Duration = .seconds(15)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { throw HarnessError("oaas did not exit within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// One HTTP/1.1 request to this process.
    func http(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:], timeout: TimeInterval = 10) async throws -> (Int, [String: String], Data) {
        try await httpRequest(port: port, method, path, body: body, headers: headers, timeout: timeout)
    }

    /// Runs `body` with a gRPC client connected to this process.
    func withClient<T: Sendable>(_ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        ) { client in
            try await body(client)
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        stdout.fileHandleForReading.readabilityHandler = nil
        stderr.fileHandleForReading.readabilityHandler = nil
    }
}

final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) {
        lock.lock()
        data.append(more)
        lock.unlock()
    }
    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) {
        self.description = description
    }
}

func httpRequest(port: Int, _ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:], timeout: TimeInterval = 10) async throws -> (Int, [String: String], Data) {
    guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw HarnessError("bad path \(path)") }
    var request = URLRequest(url: url, timeoutInterval: timeout)
    request.httpMethod = method
    request.httpBody = body
    for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
    let (data, response) = try await URLSession.shared.data(for: request)
    guard let http = response as? HTTPURLResponse else { throw HarnessError("not an HTTP response") }
    var fields: [String: String] = [:]
    for (key, value) in http.allHeaderFields {
        if let key = key as? String, let value = value as? String { fields[key.lowercased()] = value }
    }
    return (http.statusCode, fields, data)
}

/// Runs the CLI to completion: (exit code, stdout, stderr). `stdin` is fed from a file, and the exit is awaited
/// through a termination handler, so no Swift concurrency thread blocks while the CLI runs.
func runCLI(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil) async throws -> (Int32, String, String) {
    var input: String?
    if let stdin {
        let path = (temporaryDirectory() as NSString).appendingPathComponent("stdin")
        try stdin.write(to: URL(fileURLWithPath: path))
        input = path
    }
    defer { if let input { try? FileManager.default.removeItem(atPath: (input as NSString).deletingLastPathComponent) } }
    let result = try await cli(arguments, environment: environment, stdinPath: input)
    return (result.code, result.out, result.err)
}

func valData(_ text: String) -> Oprc_ValData {
    var value = Oprc_ValData()
    value.data = Data(text.utf8)
    return value
}

/// The gRPC status code of a failed call, or nil when it succeeded.
func rpcCode(_ body: () async throws -> Void) async -> RPCError.Code? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}

/// An ODGM_COLLECTION document with one collection.
func collectionJSON(_ name: String, partitions: Int = 4, options: [String: String] = [:]) -> String {
    let opts = options.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
    return #"[{"name":"\#(name)","partition_count":\#(partitions),"shard_type":"none","options":{\#(opts)}}]"#
}
