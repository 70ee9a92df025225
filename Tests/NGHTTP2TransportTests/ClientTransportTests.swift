import GRPCCore
import GRPCNIOTransportHTTP2
import NGHTTP2Transport
import Synchronization
import Testing

/// NGHTTP2ClientTransport against grpc-swift's own NIO server, over loopback.
@Suite struct ClientTransportTests {
    @Test func unaryWithMetadataAndTrailers() async throws {
        let server = ClientPeerServer(services: [EchoService()])
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            var metadata: Metadata = [:]
            metadata.addString("hello there", forKey: "echo-text")
            metadata.addBinary([0, 1, 2, 254, 255], forKey: "echo-blob-bin")
            let (text, initial, trailing) = try await client.clientEchoWithMetadata("ping", metadata: metadata)
            #expect(text == "ping")
            #expect(Array(initial[stringValues: "echo-text"]) == ["hello there"])
            #expect(Array(initial[binaryValues: "echo-blob-bin"]) == [[0, 1, 2, 254, 255]])
            #expect(Array(trailing[stringValues: "x-trailer"]) == ["done"])
        }
        await server.stop()
    }

    @Test func serverStreamingLargeMessages() async throws {
        let server = ClientPeerServer(services: [EchoService()])
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            let parts = try await client.clientExpand(count: 200, kib: 64)
            #expect(parts.count == 200)
            #expect(parts.allSatisfy { $0.0 == 64 * 1024 })
            #expect(parts.enumerated().allSatisfy { $0.element.1 == UInt8($0.offset) })
        }
        await server.stop()
    }

    @Test func clientStreamingAndBidi() async throws {
        let server = ClientPeerServer(services: [EchoService()])
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            let collected = try await client.clientStreaming(
                request: StreamingClientRequest(of: [UInt8].self) { writer in
                    for word in ["a", "bb", "ccc"] { try await writer.write(Array(word.utf8)) }
                    try await writer.write([UInt8](repeating: 7, count: 100_000))
                },
                descriptor: EchoService.collect, serializer: RawSerializer(), deserializer: RawSerializer(),
                options: .defaults
            ) { response in try response.message }
            #expect(collected.count == 6 + 100_000)
            #expect(String(decoding: collected.prefix(6), as: UTF8.self) == "abbccc")

            // Bidi, lock-step: each message is answered before the next is written.
            let (requests, requestWriter) = AsyncStream.makeStream(of: [UInt8].self)
            let echoed = try await client.bidirectionalStreaming(
                request: StreamingClientRequest(of: [UInt8].self) { writer in
                    for await message in requests { try await writer.write(message) }
                },
                descriptor: EchoService.update, serializer: RawSerializer(), deserializer: RawSerializer(),
                options: .defaults
            ) { response in
                var received: [String] = []
                requestWriter.yield(Array("m0".utf8))
                for try await message in response.messages {
                    received.append(String(decoding: message, as: UTF8.self))
                    if received.count < 5 {
                        requestWriter.yield(Array("m\(received.count)".utf8))
                    } else {
                        requestWriter.finish()
                    }
                }
                return received
            }
            #expect(echoed == ["m0", "m1", "m2", "m3", "m4"])
        }
        await server.stop()
    }

    @Test func errorStatusesCarryCodeAndMessage() async throws {
        let server = ClientPeerServer(services: [EchoService()])
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            for raw in 1...16 {
                let message = "failure \(raw): naïve 100% ✓"
                do {
                    _ = try await client.clientEcho("status:\(raw):\(message)")
                    Issue.record("status \(raw) did not fail")
                } catch let error as RPCError {
                    #expect(error.code.rawValue == raw)
                    #expect(error.message == message)
                }
            }
        }
        await server.stop()
    }

    @Test func deadlineOnStallIsExceededQuickly() async throws {
        let probe = ClientProbe()
        let server = ClientPeerServer(services: [EchoService(), probe])
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            var options = CallOptions.defaults
            options.timeout = .milliseconds(200)
            let start = ContinuousClock.now
            let code = await clientRPCCode { try await client.clientEcho("x", descriptor: ClientProbe.stall, options: options) }
            #expect(code == .deadlineExceeded)
            #expect(ContinuousClock.now - start < .seconds(2))
            // The server handler ends (server.stop() below waits for it): by the reset, or, when the reset won the
            // race with the handler's start, by its request stream failing.
            // The connection is still good afterwards.
            let got = try await client.clientEcho("after")
            #expect(got == "after")
        }
        await server.stop()
    }

    @Test func cancellingTheCallerCancelsTheServerHandler() async throws {
        let probe = ClientProbe()
        let server = ClientPeerServer(services: [probe])
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            let call = Task {
                await clientRPCCode { try await client.clientEcho("x", descriptor: ClientProbe.stall) }
            }
            #expect(await probe.waitFor("stall-started"))
            let start = ContinuousClock.now
            call.cancel()
            let code = await call.value
            #expect(code != nil)
            #expect(ContinuousClock.now - start < .seconds(2))
        }
        // The reset reaches the server after the client has given up; server.stop() waits for the handler to end.
        await server.stop()
        #expect(probe.cancelledCount == 1)
    }

    @Test func manyConcurrentUnaryCalls() async throws {
        let server = ClientPeerServer(services: [EchoService()])
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<64 {
                    group.addTask {
                        var failures = 0
                        for call in 0..<(2000 / 64 + (worker < 2000 % 64 ? 1 : 0)) {
                            let text = "w\(worker)-c\(call)"
                            if try await client.clientEcho(text) != text { failures += 1 }
                        }
                        return failures
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(failures == 0)
        }
        await server.stop()
    }

    @Test func streamsBeyondMaxConcurrentStreamsAreQueued() async throws {
        let server = ClientPeerServer(services: [ClientProbe()], maxConcurrentStreams: 4)
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            let start = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<12 {
                    group.addTask { try await client.clientEcho("s\(index)", descriptor: ClientProbe.slow) }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(results) == Set((0..<12).map { "s\($0)" }))
            // 12 calls of 300 ms, 4 at a time: three waves.
            #expect(ContinuousClock.now - start >= .milliseconds(850))
        }
        await server.stop()
    }

    @Test func oversizedResponseIsResourceExhausted() async throws {
        let server = ClientPeerServer(services: [EchoService()])
        let port = try await server.port()
        var config = NGHTTP2ClientTransport.Config.clientTesting
        config.maxMessageBytes = 16 * 1024
        try await withClientUnderTest(port: port, config: config) { client in
            let code = await clientRPCCode { try await client.clientExpand(count: 3, kib: 32) }
            #expect(code == .resourceExhausted)
            let got = try await client.clientExpand(count: 3, kib: 8).count
            #expect(got == 3)
        }
        await server.stop()
    }

    @Test func serverRestartOnTheSamePort() async throws {
        let first = ClientPeerServer(services: [EchoService()])
        let port = try await first.port()
        try await withClientUnderTest(port: port) { client in
            let got = try await client.clientEcho("one")
            #expect(got == "one")
            await first.stop()

            let code = await clientRPCCode { try await client.clientEcho("down") }
            #expect(code == .unavailable)

            let second = ClientPeerServer(port: port, services: [EchoService()])
            _ = try await second.port()
            let deadline = ContinuousClock.now + .seconds(5)
            var answer: String?
            while answer == nil, ContinuousClock.now < deadline {
                do {
                    answer = try await client.clientEcho("two")
                } catch let error as RPCError {
                    #expect(error.code == .unavailable)
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(answer == "two")
            await second.stop()
        }
    }

    @Test func callInFlightCompletesDuringServerGracefulShutdown() async throws {
        let probe = ClientProbe()
        let server = ClientPeerServer(services: [probe])
        let port = try await server.port()
        try await withClientUnderTest(port: port) { client in
            async let answer = client.clientEcho("finish me", descriptor: ClientProbe.slow)
            #expect(await probe.waitFor("slow-started"))
            server.server.beginGracefulShutdown()
            let got = try await answer
            #expect(got == "finish me")
        }
        await server.stop()
    }

    @Test func failsFastWithoutAServerUnlessWaitingForReady() async throws {
        // Find a port nobody listens on by opening and closing a server.
        let probe = ClientPeerServer(services: [])
        let port = try await probe.port()
        await probe.stop()
        try await withClientUnderTest(port: port) { client in
            let start = ContinuousClock.now
            let code = await clientRPCCode { try await client.clientEcho("nobody") }
            #expect(code == .unavailable)
            #expect(ContinuousClock.now - start < .seconds(2))

            // waitForReady: the call waits through failed attempts and succeeds once a server appears.
            var options = CallOptions.defaults
            options.waitForReady = true
            async let late = client.clientEcho("late", options: options)
            try await Task.sleep(for: .milliseconds(150))
            let server = ClientPeerServer(port: port, services: [EchoService()])
            let got = try await late
            #expect(got == "late")
            await server.stop()
        }
    }

    @Test func gracefulClientShutdownLetsOpenCallsFinish() async throws {
        let probe = ClientProbe()
        let server = ClientPeerServer(services: [probe])
        let port = try await server.port()
        let transport = NGHTTP2ClientTransport(host: "127.0.0.1", port: port, config: .clientTesting)
        let client = GRPCClient(transport: transport)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.runConnections() }
            async let answer = client.clientEcho("drain", descriptor: ClientProbe.slow)
            #expect(await probe.waitFor("slow-started"))
            client.beginGracefulShutdown()
            let got = try await answer
            #expect(got == "drain")
            let code = await clientRPCCode { try await client.clientEcho("late") }
            #expect(code != nil)
            try await group.waitForAll()
        }
        await server.stop()
    }
}
