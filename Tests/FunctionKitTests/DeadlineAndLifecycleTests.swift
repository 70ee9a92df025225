import Foundation
import FunctionKit
import GRPCCore
import OaaSProto
import Testing

/// Deadlines (data-plane spec §5.4) and graceful shutdown.
@Suite struct DeadlineAndLifecycleTests {
    @Test func theRemainingDeadlineBoundsDataServiceCalls() async throws {
        try await withFakeODGM { odgm, address in
            var app = FunctionApp(configuration: testConfiguration(odgm: address))
            app.object("touch") { call in
                let remaining = call.remainingTime ?? .zero
                try await call.object.set("k", "v")
                return .ok(String(remaining.components.seconds))
            }
            try await withRunningApp(app) { client in
                let response = try await client.invokeObj(objRequest(fn: "touch", id: 9), options: callOptions(timeout: .seconds(5)))
                #expect(response.status == .okay, "\(response.text)")
                let seconds = try #require(Int(response.text))
                #expect((3...4).contains(seconds))
            }
            let call = try #require(await odgm.calls.first)
            let timeout = try #require(call.timeout)
            // grpc-timeout travels as digits plus a unit; whatever the unit, it is at most the 5 s given.
            let duration = try #require(Self.duration(timeout))
            #expect(duration > .seconds(3) && duration <= .seconds(5))
        }
    }

    @Test func aCallWithoutDeadlineSendsNone() async throws {
        try await withFakeODGM { odgm, address in
            try await withRunningApp(ObjectStateTests.counterApp(address)) { client in
                let response = try await client.invokeObj(objRequest(fn: "count", id: 1))
                #expect(response.status == .okay)
            }
            #expect(await odgm.calls.allSatisfy { $0.timeout == nil })
        }
    }

    @Test func anExpiredDeadlineCancelsTheHandlerAndAnswersDeadlineExceeded() async throws {
        let events = Observations<String>()
        var app = FunctionApp(configuration: testConfiguration(odgm: nil))
        app.stateless("slow") { _ in
            do {
                try await Task.sleep(for: .seconds(30))
                await events.add("finished")
            } catch {
                await events.add("cancelled")
                throw error
            }
            return .ok
        }
        try await withRunningApp(app) { client in
            let started = ContinuousClock.now
            let error = await #expect(throws: RPCError.self) {
                try await client.invokeFn(fnRequest(fn: "slow"), options: callOptions(timeout: .milliseconds(200)))
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(ContinuousClock.now - started < .seconds(20))
            // The handler's task is cancelled server-side too, not left running for 30 s (10 s of slack for a
            // loaded machine).
            for _ in 0..<200 where await events.values.isEmpty {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(await events.values == ["cancelled"])
        }
    }

    @Test func gracefulShutdownLetsInFlightCallsFinish() async throws {
        let started = Observations<Bool>()
        var app = FunctionApp(configuration: testConfiguration(odgm: nil))
        app.stateless("slow") { _ in
            await started.add(true)
            try await Task.sleep(for: .milliseconds(300))
            return .ok("done")
        }
        let server = try app.makeServer()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningPort
            try await withFunctionClient(port: port) { client in
                async let response = client.invokeFn(fnRequest(fn: "slow"))
                for _ in 0..<100 where await started.values.isEmpty {
                    try await Task.sleep(for: .milliseconds(10))
                }
                server.beginGracefulShutdown()
                let answer = try await response
                #expect(answer.status == .okay)
                #expect(answer.text == "done")
            }
            try await group.waitForAll()
        }
        // Once stopped, the server no longer reports a port.
        await #expect(throws: (any Error).self) { try await server.listeningPort }
    }

    @Test func onListeningReportsTheBoundPort() async throws {
        let ports = Observations<Int>()
        var app = FunctionApp(configuration: testConfiguration(odgm: nil))
        app.stateless("echo") { call in .ok(call.payload) }
        let server = try app.makeServer { port in await ports.add(port) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningPort
            for _ in 0..<100 where await ports.values.isEmpty {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(await ports.values == [port])
            #expect(port > 0)
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }

    static func duration(_ header: String) -> Duration? {
        guard let unit = header.last, let amount = Int64(header.dropLast()) else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }
}
