import GRPCCore
import NGHTTP2Transport
import Testing

/// NGHTTP2ClientTransport against Python grpcio (a gRPC server no one here wrote).
@Suite struct ClientGRPCIOInteropTests {
    @Test func unaryServerStreamingErrorsAndDeadlines() async throws {
        let server = try ClientGRPCIOServer()
        defer { server.stop() }
        try await withClientUnderTest(port: server.port) { client in
            var metadata: Metadata = [:]
            metadata.addString("v", forKey: "echo-key")
            let (text, initial, trailing) = try await client.clientEchoWithMetadata("hello grpcio", metadata: metadata)
            #expect(text == "hello grpcio")
            #expect(Array(initial[stringValues: "echo-key"]) == ["v"])
            #expect(Array(trailing[stringValues: "x-trailer"]) == ["done"])

            let parts = try await client.clientExpand(count: 50, kib: 64)
            #expect(parts.count == 50)
            #expect(parts.allSatisfy { $0.0 == 64 * 1024 })
            #expect(parts.enumerated().allSatisfy { $0.element.1 == UInt8($0.offset) })

            do {
                _ = try await client.clientEcho("status:7:no entry — für dich 100%")
                Issue.record("the call did not fail")
            } catch let error as RPCError {
                #expect(error.code == .permissionDenied)
                #expect(error.message == "no entry — für dich 100%")
            }

            var options = CallOptions.defaults
            options.timeout = .milliseconds(200)
            let start = ContinuousClock.now
            let code = await clientRPCCode { try await client.clientEcho("x", descriptor: EchoService.stall, options: options) }
            #expect(code == .deadlineExceeded)
            #expect(ContinuousClock.now - start < .seconds(2))

            // Unknown method: grpcio answers UNIMPLEMENTED (trailers-only).
            let missing = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Missing")
            #expect(await clientRPCCode { try await client.clientEcho("x", descriptor: missing) } == .unimplemented)
            let got = try await client.clientEcho("still fine")
            #expect(got == "still fine")
        }
    }
}
