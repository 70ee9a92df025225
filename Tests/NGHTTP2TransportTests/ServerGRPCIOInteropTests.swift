import Foundation
import GRPCCore
import NGHTTP2Transport
import Testing

/// NGHTTP2ServerTransport against Python grpcio (a client no one here wrote), run as a subprocess.
@Suite("NGHTTP2 server vs grpcio client")
struct ServerGRPCIOInteropTests {
    /// Runs Support/grpcio_client.py against `port`; returns its JSON output.
    static func runGRPCIOClient(port: Int) async throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Support/grpcio_client.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, String(port)]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status == 0, "grpcio client failed: \(errors)")
        let object = try JSONSerialization.jsonObject(with: output)
        return object as? [String: Any] ?? [:]
    }

    @Test func grpcioClientCallsEveryKind() async throws {
        try await withServerUnderTest { _, port in
            let result = try await Self.runGRPCIOClient(port: port)
            #expect(result["unary"] as? String == "hello from grpcio")
            #expect(result["initial"] as? [String: String] == ["echo-who": "python"])
            #expect(result["trailing"] as? [String: String] == ["x-trailer": "done"])
            #expect(result["stream"] as? [Int] == Array(repeating: 100 * 1024, count: 6))
            #expect(result["collect"] as? Int == 30_000)
            #expect(result["bidi"] as? [String] == ["x", "yy", "zzz"])
            let error = result["error"] as? [String: String]
            #expect(error?["code"] == "NOT_FOUND")
            #expect(error?["details"] == "nöt found 100%")
            #expect(result["deadline"] as? String == "DEADLINE_EXCEEDED")
            #expect(result["after"] as? String == "after")
        }
    }
}
