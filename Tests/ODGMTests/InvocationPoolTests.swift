import Foundation
import GRPCCore
import ODGM
import OaaSCore
import OaaSProto
import Testing

/// The runtime client pool on its own: reuse, lifetime replacement and shutdown (spec §9.3).
@Suite struct InvocationPoolTests {
    private func echo(_ pool: RuntimeClientPool, _ target: GRPCRuntimeTarget, _ settings: RuntimePoolSettings) async throws -> String {
        try await pool.withClient(target, settings: settings) { client in
            var request = Oprc_InvocationRequest()
            request.fnID = "echo"
            request.payload = Data("ping".utf8)
            let response = try await Oprc_OprcFunction.Client(wrapping: client).invokeFn(request)
            return String(decoding: response.payload, as: UTF8.self)
        }
    }

    @Test func clientsAreReusedPerTargetAndSettings() async throws {
        try await withLoopbackServer([FakeFunctionRuntime()]) { port in
            try await withRunningPool { pool in
                let target = GRPCRuntimeTarget(host: "127.0.0.1", port: port, tls: false)
                for _ in 0..<3 { #expect(try await echo(pool, target, RuntimePoolSettings()) == "ping") }
                #expect(pool.createdCount == 1)
                // Other pool options are another client.
                _ = try await echo(pool, target, RuntimePoolSettings(maxInFlight: 2))
                #expect(pool.createdCount == 2)
                #expect(pool.clientCount == 2)
            }
        }
    }

    @Test func oldClientsAreReplaced() async throws {
        try await withLoopbackServer([FakeFunctionRuntime()]) { port in
            try await withRunningPool { pool in
                let target = GRPCRuntimeTarget(host: "127.0.0.1", port: port, tls: false)
                let settings = RuntimePoolSettings(maxLifetime: .milliseconds(20))
                #expect(try await echo(pool, target, settings) == "ping")
                try await Task.sleep(for: .milliseconds(40))
                #expect(try await echo(pool, target, settings) == "ping")
                #expect(pool.createdCount == 2)
                #expect(pool.clientCount == 1)
            }
        }
    }

    @Test func aClosedPoolRefusesCalls() async throws {
        try await withRunningPool { pool in
            pool.close()
            await #expect(throws: RuntimeClientPool.Failure.self) {
                _ = try await echo(pool, GRPCRuntimeTarget(host: "127.0.0.1", port: 1, tls: false), RuntimePoolSettings())
            }
        }
    }
}
