import Foundation
import Synchronization
import Testing

/// The `oaas-functions` binary: `OAAS_FUNCTIONS_BIN` (set by `make test`), else the debug build
/// (`swift build --product oaas-functions`).
var examplesBinary: String {
    if let path = ProcessInfo.processInfo.environment["OAAS_FUNCTIONS_BIN"], !path.isEmpty { return path }
    let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/oaas-functions").path
}

struct ProcessFailure: Error, CustomStringConvertible {
    let description: String
}

/// A running `oaas-functions`, killed if still alive when released.
final class ExamplesProcess: Sendable {
    private let process: Process
    private let stderr = Pipe()
    private let output = OutputBuffer()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: examplesBinary) else {
            throw ProcessFailure(description: "\(examplesBinary) is missing: run `swift build --product oaas-functions` first")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: examplesBinary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for name in ["HTTP_PORT", "HTTP_HOST", "ODGM_SERVICE", "OAAS_FUNCTIONS"] { env[name] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        let output = self.output
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.append(data) }
        }
        self.process = process
        try process.run()
    }

    var log: String { output.text }

    /// Waits for the "listening on <port>" line and returns the port.
    func listeningPort(timeout: Duration = .seconds(20)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in log.split(separator: "\n") where line.hasPrefix("listening on ") {
                if let port = Int(line.dropFirst("listening on ".count)) { return port }
            }
            guard process.isRunning else {
                throw ProcessFailure(description: "oaas-functions exited with \(process.terminationStatus):\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessFailure(description: "oaas-functions did not listen within \(timeout):\n\(log)")
    }

    func terminate() { process.terminate() }

    func waitForExit(timeout: Duration = .seconds(10)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw ProcessFailure(description: "oaas-functions did not exit:\n\(log)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        stderr.fileHandleForReading.readabilityHandler = nil
    }
}

/// Bytes a child process wrote, appended from the pipe's reader thread.
final class OutputBuffer: Sendable {
    private let data = Mutex(Data())

    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }

    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}
