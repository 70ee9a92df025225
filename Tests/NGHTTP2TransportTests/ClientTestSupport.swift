import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NGHTTP2Transport
import Synchronization
import Testing

/// `test.ClientProbe`: methods whose server side the tests observe. Stall waits until the RPC is cancelled
/// (RST_STREAM or its deadline) and counts the cancellations; Slow answers after a delay and reports that it started.
/// (grpc-swift 2.4's server does not cancel a handler's task when the client resets the stream; it only flags
/// `ServerContext.cancellation`, so Stall waits on that flag rather than on `Task.sleep`.)
final class ClientProbe: RegistrableRPCService, Sendable {
    static let stall = MethodDescriptor(fullyQualifiedService: "test.ClientProbe", method: "Stall")
    static let slow = MethodDescriptor(fullyQualifiedService: "test.ClientProbe", method: "Slow")

    let events: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let cancellations = Mutex(0)

    init() {
        (events, continuation) = AsyncStream.makeStream(of: String.self)
    }

    var cancelledCount: Int { cancellations.withLock { $0 } }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let raw = RawSerializer()
        router.registerHandler(forMethod: Self.stall, deserializer: raw, serializer: raw) { request, context in
            for try await _ in request.messages {}
            self.continuation.yield("stall-started")
            // Either the flag or the task's own cancellation ends the wait; both mean the call was cancelled.
            try? await context.cancellation.cancelled
            self.cancellations.withLock { $0 += 1 }
            self.continuation.yield("stall-cancelled")
            throw RPCError(code: .cancelled, message: "cancelled")
        }
        router.registerHandler(forMethod: Self.slow, deserializer: raw, serializer: raw) { request, _ in
            var received: [UInt8] = []
            for try await part in request.messages { received += part }
            let message = received
            self.continuation.yield("slow-started")
            return StreamingServerResponse { writer in
                try await Task.sleep(for: .milliseconds(300))
                try await writer.write(message)
                return [:]
            }
        }
    }

    /// Waits for the next event with the given name.
    func waitFor(_ name: String) async -> Bool {
        for await event in events where event == name { return true }
        return false
    }
}

/// A grpc-swift NIO server (the interop peer) running the given services on 127.0.0.1.
final class ClientPeerServer: Sendable {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let transport: HTTP2ServerTransport.Posix
    private let task: Task<Void, any Error>

    init(port: Int = 0, services: [any RegistrableRPCService], maxConcurrentStreams: Int? = nil) {
        let config = HTTP2ServerTransport.Posix.Config.defaults { config in
            config.http2.maxConcurrentStreams = maxConcurrentStreams
        }
        transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext, config: config)
        let server = GRPCServer(transport: transport, services: services)
        self.server = server
        task = Task { try await server.serve() }
    }

    func port() async throws -> Int {
        try #require(try await transport.listeningAddress.ipv4?.port)
    }

    /// Graceful shutdown; returns when the server has stopped.
    func stop() async {
        server.beginGracefulShutdown()
        _ = await task.result
    }
}

/// Runs `body` with a GRPCClient on an NGHTTP2ClientTransport to 127.0.0.1:port.
func withClientUnderTest<T: Sendable>(
    port: Int,
    config: NGHTTP2ClientTransport.Config = .clientTesting,
    serviceConfig: ServiceConfig = ServiceConfig(),
    _ body: (GRPCClient<NGHTTP2ClientTransport>) async throws -> T
) async throws -> T {
    let transport = NGHTTP2ClientTransport(host: "127.0.0.1", port: port, config: config, serviceConfig: serviceConfig)
    return try await withGRPCClient(transport: transport) { client in try await body(client) }
}

extension NGHTTP2ClientTransport.Config {
    /// Defaults with a short reconnect backoff so tests do not wait for grpc's one-second default.
    static var clientTesting: Self {
        var config = Self.defaults
        config.backoff = .init(initial: .milliseconds(50), max: .milliseconds(200), multiplier: 1.5, jitter: 0.1)
        config.connectTimeout = .seconds(5)
        return config
    }
}

extension GRPCClient {
    func clientEcho(
        _ text: String, descriptor: MethodDescriptor = EchoService.get, metadata: Metadata = [:],
        options: CallOptions = .defaults
    ) async throws -> String {
        try await unary(
            request: ClientRequest(message: Array(text.utf8), metadata: metadata),
            descriptor: descriptor, serializer: RawSerializer(), deserializer: RawSerializer(), options: options
        ) { response in
            String(decoding: try response.message, as: UTF8.self)
        }
    }

    /// Get with metadata: the echoed text, the initial metadata and the trailers.
    func clientEchoWithMetadata(_ text: String, metadata: Metadata) async throws -> (String, Metadata, Metadata) {
        try await unary(
            request: ClientRequest(message: Array(text.utf8), metadata: metadata),
            descriptor: EchoService.get, serializer: RawSerializer(), deserializer: RawSerializer(), options: .defaults
        ) { response in
            (String(decoding: try response.message, as: UTF8.self), response.metadata, response.trailingMetadata)
        }
    }

    /// Expand: `count` messages of `kib` KiB; returns each message's size and first byte.
    func clientExpand(count: UInt8, kib: UInt8, options: CallOptions = .defaults) async throws -> [(Int, UInt8)] {
        try await serverStreaming(
            request: ClientRequest(message: [count, kib]), descriptor: EchoService.expand,
            serializer: RawSerializer(), deserializer: RawSerializer(), options: options
        ) { response in
            var parts: [(Int, UInt8)] = []
            for try await message in response.messages { parts.append((message.count, message.first ?? 0)) }
            return parts
        }
    }
}

func clientRPCCode(of body: () async throws -> some Any) async -> RPCError.Code? {
    do {
        _ = try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}

/// A Python grpcio server (Support/grpcio_server.py) in a subprocess, stopped by closing its stdin.
final class ClientGRPCIOServer: @unchecked Sendable {
    // @unchecked: the Process and pipes are only touched from the test that owns the server.
    let port: Int
    private let process: Process
    private let stdin: Pipe

    init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Support/grpcio_server.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(text) else {
            process.terminate()
            throw RPCError(code: .internalError, message: "grpcio server did not report a port: '\(text)'")
        }
        self.port = port
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
