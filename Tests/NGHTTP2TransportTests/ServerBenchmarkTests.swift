import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NGHTTP2Transport
import Testing

/// Unary calls/s at 64 in flight, this server vs grpc-swift's HTTP2ServerTransport.Posix, same NIO client.
/// Not a timed test: run with OAAS_SERVER_BENCH=1 (ideally in release) and read the printed figures.
@Suite("NGHTTP2 server quick comparison", .enabled(if: ProcessInfo.processInfo.environment["OAAS_SERVER_BENCH"] == "1"))
struct ServerBenchmarkTests {
    static func run(port: Int, calls: Int) async throws -> Double {
        try await withServerTestNIOClient(port: port) { client in
            for _ in 0..<200 { _ = try await serverEcho(client, "warm") }
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<64 {
                    group.addTask {
                        for _ in stride(from: worker, to: calls, by: 64) { _ = try await serverEcho(client, "bench") }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return Double(calls) / seconds
        }
    }

    @Test func unaryCallsPerSecond() async throws {
        let calls = 20_000
        let ours = try await withServerUnderTest { _, port in try await Self.run(port: port, calls: calls) }
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [EchoService()])
        let nio = try await withThrowingTaskGroup(of: Double?.self) { group in
            group.addTask { try await server.serve(); return nil }
            let port = try await transport.listeningAddress.ipv4?.port ?? 0
            let rate = try await Self.run(port: port, calls: calls)
            server.beginGracefulShutdown()
            try await group.waitForAll()
            return rate
        }
        print("BENCH unary calls/s at 64 in flight: nghttp2 server \(Int(ours)), NIO server \(Int(nio))")
        #expect(ours > 0 && nio > 0)
    }
}
