import GRPCCore
import GRPCNIOTransportHTTP2
import NGHTTP2Transport
import NIOCore
import Synchronization
import Testing

/// NGHTTP2ServerTransport against grpc-swift's own NIO HTTP/2 client, over loopback.
@Suite("NGHTTP2 server vs NIO client")
struct ServerInteropTests {
    let raw = RawSerializer()

    @Test func unaryEchoesMessageMetadataAndTrailers() async throws {
        try await withServerUnderTest { _, port in
            try await withServerTestNIOClient(port: port) { client in
                var metadata: Metadata = ["echo-text": "hello", "other": "x"]
                metadata.addBinary([0, 1, 2, 255], forKey: "echo-data-bin")
                let (message, initial, trailers) = try await client.unary(
                    request: ClientRequest(message: Array("ping".utf8), metadata: metadata),
                    descriptor: EchoService.get, serializer: raw, deserializer: raw, options: .defaults
                ) { response in (try response.message, response.metadata, response.trailingMetadata) }
                #expect(message == Array("ping".utf8))
                #expect(Array(initial[stringValues: "echo-text"]) == ["hello"])
                #expect(Array(initial[binaryValues: "echo-data-bin"]) == [[0, 1, 2, 255]])
                #expect(Array(initial[stringValues: "other"]).isEmpty)
                #expect(Array(trailers[stringValues: "x-trailer"]) == ["done"])
                // An empty message round-trips too.
                #expect(try await serverEcho(client, "") == "")
            }
        }
    }

    @Test func serverStreamingLargeMessages() async throws {
        try await withServerUnderTest { _, port in
            try await withServerTestNIOClient(port: port) { client in
                // 12 messages of 255 KiB each: many DATA frames, flow control on both windows.
                let sizes = try await client.serverStreaming(
                    request: ClientRequest(message: [12, 255]), descriptor: EchoService.expand,
                    serializer: raw, deserializer: raw, options: .defaults
                ) { response in
                    var seen: [(Int, UInt8)] = []
                    for try await message in response.messages { seen.append((message.count, message.first ?? 0)) }
                    return seen
                }
                #expect(sizes.count == 12)
                #expect(sizes.allSatisfy { $0.0 == 255 * 1024 })
                #expect(sizes.map(\.1) == (0..<12).map { UInt8($0) })
            }
        }
    }

    @Test func clientStreamingCollects() async throws {
        try await withServerUnderTest { _, port in
            try await withServerTestNIOClient(port: port) { client in
                let chunk = [UInt8](repeating: 9, count: 10_000)
                let total = try await client.clientStreaming(
                    request: StreamingClientRequest { writer in
                        for _ in 0..<200 { try await writer.write(chunk) }
                    },
                    descriptor: EchoService.collect, serializer: raw, deserializer: raw, options: .defaults
                ) { response in try response.message.count }
                #expect(total == 2_000_000)
            }
        }
    }

    @Test func bidirectionalStreamingEchoesEachMessage() async throws {
        try await withServerUnderTest { _, port in
            try await withServerTestNIOClient(port: port) { client in
                let replies = try await client.bidirectionalStreaming(
                    request: StreamingClientRequest { writer in
                        for index in 0..<50 { try await writer.write(Array("m\(index)".utf8)) }
                    },
                    descriptor: EchoService.update, serializer: raw, deserializer: raw, options: .defaults
                ) { response in
                    var all: [String] = []
                    for try await message in response.messages { all.append(String(decoding: message, as: UTF8.self)) }
                    return all
                }
                #expect(replies == (0..<50).map { "m\($0)" })
            }
        }
    }

    @Test func errorStatusesCarryCodeAndMessage() async throws {
        try await withServerUnderTest { _, port in
            try await withServerTestNIOClient(port: port) { client in
                for code in 1...16 {
                    let text = "fail \(code): ünïcødé ✓ 100% done"
                    do {
                        _ = try await serverEcho(client, "status:\(code):\(text)")
                        Issue.record("code \(code) did not fail")
                    } catch let error as RPCError {
                        #expect(error.code.rawValue == code)
                        #expect(error.message == text)
                    }
                }
                // Unknown method: GRPCServer's router answers UNIMPLEMENTED through the transport.
                do {
                    _ = try await client.unary(
                        request: ClientRequest(message: [1]),
                        descriptor: MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Nope"),
                        serializer: raw, deserializer: raw, options: .defaults) { try $0.message }
                    Issue.record("unknown method succeeded")
                } catch let error as RPCError {
                    #expect(error.code == .unimplemented)
                }
            }
        }
    }

    @Test func deadlineExceededCancelsHandler() async throws {
        let counters = ServerProbeCounters()
        try await withServerUnderTest(services: [EchoService(), ServerProbeService(counters: counters)]) { _, port in
            try await withServerTestNIOClient(port: port) { client in
                var options = CallOptions.defaults
                // Long enough that the handler surely starts (tests run in parallel on 2 cores), short for a test.
                options.timeout = .milliseconds(800)
                let start = ContinuousClock.now
                do {
                    _ = try await client.unary(
                        request: ClientRequest(message: [1]), descriptor: ServerProbeService.wait,
                        serializer: raw, deserializer: raw, options: options) { try $0.message }
                    Issue.record("the call did not time out")
                } catch let error as RPCError {
                    #expect(error.code == .deadlineExceeded)
                }
                #expect(ContinuousClock.now - start < .seconds(3))
                #expect(await serverEventually { counters.cancelled == 1 })
                let after = try await serverEcho(client, "after")
                #expect(after == "after")
            }
        }
    }

    @Test func clientCancellationCancelsHandler() async throws {
        let counters = ServerProbeCounters()
        try await withServerUnderTest(services: [EchoService(), ServerProbeService(counters: counters)]) { _, port in
            try await withServerTestNIOClient(port: port) { client in
                let raw = raw
                let call = Task {
                    try await client.unary(
                        request: ClientRequest(message: [1]), descriptor: ServerProbeService.wait,
                        serializer: raw, deserializer: raw, options: .defaults) { try $0.message }
                }
                #expect(await serverEventually { counters.started == 1 })
                call.cancel()
                _ = await call.result
                // The client's RST_STREAM reaches the server, which cancels the handler's task.
                #expect(await serverEventually { counters.cancelled == 1 })
                let after = try await serverEcho(client, "after")
                #expect(after == "after")
            }
        }
    }

    @Test func oversizeRequestIsResourceExhaustedAndConnectionKeepsServing() async throws {
        var config = NGHTTP2ServerTransport.Config.defaults
        config.maxMessageBytes = 1024
        try await withServerUnderTest(config: config) { _, port in
            try await withServerTestNIOClient(port: port) { client in
                do {
                    _ = try await serverEcho(client, String(repeating: "x", count: 4096))
                    Issue.record("oversize request succeeded")
                } catch let error as RPCError {
                    #expect(error.code == .resourceExhausted)
                }
                #expect(try await serverEcho(client, "small") == "small")
            }
        }
    }

    @Test func manyConcurrentUnaryCalls() async throws {
        try await withServerUnderTest { _, port in
            try await withServerTestNIOClient(port: port) { client in
                let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                    for worker in 0..<64 {
                        group.addTask {
                            var bad = 0
                            for index in stride(from: worker, to: 2000, by: 64) {
                                let text = "call-\(index)"
                                if try await serverEcho(client, text) != text { bad += 1 }
                            }
                            return bad
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(failures == 0)
            }
        }
    }

    @Test func gracefulShutdownLetsInFlightCallFinish() async throws {
        let counters = ServerProbeCounters()
        let transport = NGHTTP2ServerTransport(listener: .bind(host: "127.0.0.1", port: 0))
        let server = GRPCServer(transport: transport, services: [ServerProbeService(counters: counters)])
        let serving = Task { try await server.serve() }
        let port = try await transport.listeningAddress.port ?? 0
        try await withServerTestNIOClient(port: port) { client in
            let raw = raw
            let call = Task {
                try await client.unary(
                    request: ClientRequest(message: [1]), descriptor: ServerProbeService.slow,
                    serializer: raw, deserializer: raw, options: .defaults) { try $0.message }
            }
            #expect(await serverEventually { counters.started == 1 })
            server.beginGracefulShutdown()
            let reply = try await call.value
            #expect(String(decoding: reply, as: UTF8.self) == "slow-done")
        }
        // serve() returns once the in-flight call is done and the connection closed.
        try await serving.value
        #expect(counters.finished == 1)
    }

    @Test func listenCancellationClosesConnections() async throws {
        let counters = ServerProbeCounters()
        let transport = NGHTTP2ServerTransport(listener: .bind(host: "127.0.0.1", port: 0))
        let server = GRPCServer(transport: transport, services: [ServerProbeService(counters: counters)])
        let serving = Task { try await server.serve() }
        let port = try await transport.listeningAddress.port ?? 0
        try await withServerTestNIOClient(port: port) { client in
            let raw = raw
            let call = Task {
                try await client.unary(
                    request: ClientRequest(message: [1]), descriptor: ServerProbeService.wait,
                    serializer: raw, deserializer: raw, options: .defaults) { try $0.message }
            }
            #expect(await serverEventually { counters.started == 1 })
            serving.cancel()
            _ = await serving.result
            #expect(counters.cancelled == 1)
            _ = await call.result
        }
    }
}
