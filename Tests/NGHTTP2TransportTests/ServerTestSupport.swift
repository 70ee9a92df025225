import GRPCCore
import GRPCNIOTransportHTTP2
import NGHTTP2Transport
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Counts what the probe handlers saw, so tests can assert that a handler was cancelled.
final class ServerProbeCounters: Sendable {
    private let state = Mutex<(started: Int, cancelled: Int, finished: Int, written: Int)>((0, 0, 0, 0))
    func startedOne() { state.withLock { $0.started += 1 } }
    func cancelledOne() { state.withLock { $0.cancelled += 1 } }
    func finishedOne() { state.withLock { $0.finished += 1 } }
    func wroteOne() { state.withLock { $0.written += 1 } }
    var started: Int { state.withLock { $0.started } }
    var cancelled: Int { state.withLock { $0.cancelled } }
    var finished: Int { state.withLock { $0.finished } }
    var written: Int { state.withLock { $0.written } }
}

/// `test.Probe`: Wait sleeps until cancelled; Slow answers after a pause; Flood writes 64 KiB messages forever.
struct ServerProbeService: RegistrableRPCService {
    static let wait = MethodDescriptor(fullyQualifiedService: "test.Probe", method: "Wait")
    static let slow = MethodDescriptor(fullyQualifiedService: "test.Probe", method: "Slow")
    static let flood = MethodDescriptor(fullyQualifiedService: "test.Probe", method: "Flood")
    let counters: ServerProbeCounters

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let raw = RawSerializer()
        let counters = counters
        router.registerHandler(forMethod: Self.wait, deserializer: raw, serializer: raw) { request, _ in
            for try await _ in request.messages {}
            counters.startedOne()
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                counters.cancelledOne()
                throw error
            }
            return StreamingServerResponse { _ in [:] }
        }
        router.registerHandler(forMethod: Self.slow, deserializer: raw, serializer: raw) { request, _ in
            for try await _ in request.messages {}
            counters.startedOne()
            try await Task.sleep(for: .milliseconds(300))
            counters.finishedOne()
            return StreamingServerResponse { writer in
                try await writer.write(Array("slow-done".utf8))
                return [:]
            }
        }
        router.registerHandler(forMethod: Self.flood, deserializer: raw, serializer: raw) { request, context in
            for try await _ in request.messages {}
            counters.startedOne()
            return StreamingServerResponse { writer in
                let chunk = [UInt8](repeating: 7, count: 64 * 1024)
                do {
                    while true {
                        try await writer.write(chunk)
                        counters.wroteOne()
                    }
                } catch {
                    counters.cancelledOne()
                    throw error
                }
            }
        }
    }
}

/// Polls `condition` every 10 ms for up to `seconds`.
func serverEventually(seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Runs a GRPCServer on an `NGHTTP2ServerTransport` bound to 127.0.0.1:0 for the duration of `body`.
func withServerUnderTest<T: Sendable>(
    config: NGHTTP2ServerTransport.Config = .defaults,
    services: [any RegistrableRPCService] = [EchoService()],
    _ body: (NGHTTP2ServerTransport, Int) async throws -> T
) async throws -> T {
    let transport = NGHTTP2ServerTransport(listener: .bind(host: "127.0.0.1", port: 0), config: config)
    let server = GRPCServer(transport: transport, services: services)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.serve() }
        do {
            let port = try await transport.listeningAddress.port ?? 0
            let result = try await body(transport, port)
            server.beginGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// grpc-swift's own NIO HTTP/2 client against `port`.
func withServerTestNIOClient<T: Sendable>(
    port: Int, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
) async throws -> T {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
    return try await withGRPCClient(transport: transport) { client in try await body(client) }
}

/// One unary Echo/Get call; returns the echoed text.
func serverEcho(_ client: GRPCClient<HTTP2ClientTransport.Posix>, _ text: String, metadata: Metadata = [:],
          timeout: Duration? = nil) async throws -> String {
    var options = CallOptions.defaults
    options.timeout = timeout
    return try await client.unary(
        request: ClientRequest(message: Array(text.utf8), metadata: metadata), descriptor: EchoService.get,
        serializer: RawSerializer(), deserializer: RawSerializer(), options: options
    ) { response in String(decoding: try response.message, as: UTF8.self) }
}

/// Asserts that the server on `port` still answers a normal call on a fresh connection.
func expectServerServes(port: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let reply = try await withServerTestNIOClient(port: port) { client in try await serverEcho(client, "still-alive") }
    #expect(reply == "still-alive", sourceLocation: sourceLocation)
}
