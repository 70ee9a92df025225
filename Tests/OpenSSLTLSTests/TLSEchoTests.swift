import NIOCore
import NIOPosix
import OpenSSLTLS
import Testing

@Suite struct TLSEchoTests {
    let certs: CertFixture
    init() throws { certs = try CertFixture.shared() }

    func serverContext(alpn: [String] = ["h2"]) throws -> TLSContext {
        try TLSContext(configuration: .server(
            certificateChainFile: certs.serverCert, privateKeyFile: certs.serverKey, applicationProtocols: alpn))
    }

    func clientContext(alpn: [String] = ["h2"], serverName: String = "localhost") throws -> TLSContext {
        try TLSContext(configuration: .client(
            serverName: serverName, trustRootsFile: certs.caCert, applicationProtocols: alpn))
    }

    @Test func echoesOverTLSWithALPNh2() async throws {
        let server = try await TLSEchoServer.start(try serverContext())
        defer { Task { await server.stop() } }
        let client = try await TLSTestClient.connect(port: server.port, try clientContext())

        let done = try await awaitHandshake(client.events).get()
        #expect(done.negotiatedProtocol == "h2")
        #expect(done.peerCertificateSubject == CertFixture.serverSubject)
        #expect(done.peerCertificateSerial == CertFixture.serverSerial)
        #expect(done.protocolVersion == "TLSv1.3")

        let message = Array("hello over OpenSSL".utf8)
        try await client.send(message)
        #expect(await readBytes(client.events, count: message.count) == message)

        var connections = server.connections.makeAsyncIterator()
        let serverSide = try #require(await connections.next())
        let serverDone = try await awaitHandshake(serverSide).get()
        #expect(serverDone.negotiatedProtocol == "h2")
        #expect(serverDone.peerCertificateSubject == nil)

        // close sends close_notify; the server answers and closes its side without reporting an error.
        try await client.channel.close()
        #expect(await awaitClose(serverSide) == nil)
    }

    @Test func http11ClientGetsHTTP11FromSharedPort() async throws {
        let server = try await TLSEchoServer.start(try serverContext(alpn: ["h2", "http/1.1"]))
        defer { Task { await server.stop() } }

        let h1 = try await TLSTestClient.connect(port: server.port, try clientContext(alpn: ["http/1.1"]))
        #expect(try await awaitHandshake(h1.events).get().negotiatedProtocol == "http/1.1")
        // Server preference wins when the client offers both.
        let both = try await TLSTestClient.connect(port: server.port, try clientContext(alpn: ["http/1.1", "h2"]))
        #expect(try await awaitHandshake(both.events).get().negotiatedProtocol == "h2")
        // No ALPN at all still connects (negotiates nothing).
        let none = try await TLSTestClient.connect(port: server.port, try clientContext(alpn: []))
        #expect(try await awaitHandshake(none.events).get().negotiatedProtocol == nil)
        try await h1.channel.close()
        try await both.channel.close()
        try await none.channel.close()
    }

    @Test func noCommonALPNProtocolFailsTheHandshake() async throws {
        let server = try await TLSEchoServer.start(try serverContext(alpn: ["h2"]))
        defer { Task { await server.stop() } }
        let client = try await TLSTestClient.connect(port: server.port, try clientContext(alpn: ["http/1.1"]))
        let result = await awaitHandshake(client.events)
        let error = try #require(result.failure as? TLSError)
        #expect(error.kind == .handshakeFailed)
        #expect(error.message.contains("no application protocol"))
    }

    @Test func largePayloadsEchoIntact() async throws {
        let server = try await TLSEchoServer.start(try serverContext())
        defer { Task { await server.stop() } }
        let client = try await TLSTestClient.connect(port: server.port, try clientContext())
        _ = try await awaitHandshake(client.events).get()

        // One 6 MiB write, then many odd-sized writes flushed together.
        let big = randomBytes(6 * 1024 * 1024 + 13)
        try await client.send(big)
        #expect(await readBytes(client.events, count: big.count) == big)

        let pieces = (0..<200).map { randomBytes(1 + ($0 * 7919) % 40_000) }
        for piece in pieces {
            client.channel.write(ByteBuffer(bytes: piece), promise: nil)
        }
        try await client.channel.writeAndFlush(ByteBuffer()).get()
        let expected = pieces.flatMap { $0 }
        #expect(await readBytes(client.events, count: expected.count) == expected)
        try await client.channel.close()
    }

    @Test func toleratesRecordsCutIntoTinyPieces() async throws {
        let server = try await TLSEchoServer.start(try serverContext())
        defer { Task { await server.stop() } }
        // Every client write (handshake included) reaches the server in 5-byte flushed pieces.
        let client = try await TLSTestClient.connect(port: server.port, try clientContext(), splitWritesInto: 5)
        _ = try await awaitHandshake(client.events).get()
        let message = randomBytes(3000)
        try await client.send(message)
        #expect(await readBytes(client.events, count: message.count) == message)
        try await client.channel.close()
    }

    @Test func writesBeforeTheHandshakeAreSentAfterIt() async throws {
        let server = try await TLSEchoServer.start(try serverContext())
        defer { Task { await server.stop() } }
        let tls = try clientContext()
        let (events, continuation) = AsyncStream<ConnectionEvent>.makeStream()
        let early = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        // Like an HTTP/2 client writing its preface in channelActive.
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
                    try channel.pipeline.syncOperations.addHandler(EventRecorder(continuation))
                    try channel.pipeline.syncOperations.addHandler(WriteOnActive(early))
                }
            }
            .connect(host: "127.0.0.1", port: server.port).get()
        #expect(await readBytes(events, count: early.count) == early)
        try await channel.close()
    }

    @Test func garbageToTheServerFailsThatConnectionOnly() async throws {
        let server = try await TLSEchoServer.start(try serverContext())
        defer { Task { await server.stop() } }
        var connections = server.connections.makeAsyncIterator()

        let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port).get()
        try await raw.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n\u{0}\u{ff}\u{16}\u{3}")).get()
        let serverSide = try #require(await connections.next())
        let error = try #require(await awaitClose(serverSide) as? TLSError)
        #expect(error.kind == .handshakeFailed)
        try await raw.closeFuture.get()  // the server closed it

        // Random bytes that start like a TLS record.
        let raw2 = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port).get()
        try await raw2.writeAndFlush(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x00, 0x40] + randomBytes(64))).get()
        let serverSide2 = try #require(await connections.next())
        #expect(await awaitClose(serverSide2) is TLSError)
        try await raw2.closeFuture.get()

        // The listener still serves real clients.
        let client = try await TLSTestClient.connect(port: server.port, try clientContext())
        #expect(try await awaitHandshake(client.events).get().negotiatedProtocol == "h2")
        try await client.channel.close()
    }

    @Test func handlerAddedToAnActiveChannelStillHandshakes() async throws {
        let tls = try serverContext()
        let (accepted, continuation) = AsyncStream<ConnectionEvent>.makeStream()
        // Like a protocol sniffer: the TLS handler is added only after the channel is active and a byte arrived.
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LateTLSInstaller(tls, continuation))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let client = try await TLSTestClient.connect(port: server.localAddress?.port ?? 0, try clientContext())
        #expect(try await awaitHandshake(client.events).get().negotiatedProtocol == "h2")
        let message = Array("late".utf8)
        try await client.send(message)
        #expect(await readBytes(client.events, count: message.count) == message)
        #expect(try await awaitHandshake(accepted).get().negotiatedProtocol == "h2")
        try await client.channel.close()
    }
}

/// Writes and flushes `bytes` as soon as the channel is active (before any TLS handshake can have completed).
final class WriteOnActive: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)), promise: nil)
        context.fireChannelActive()
    }
}

/// Holds the first bytes, then installs the TLS handler + echo behind itself and replays them.
final class LateTLSInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let tls: TLSContext
    let continuation: AsyncStream<ConnectionEvent>.Continuation
    init(_ tls: TLSContext, _ continuation: AsyncStream<ConnectionEvent>.Continuation) {
        self.tls = tls
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try context.pipeline.syncOperations.addHandler(tls.makeHandler(), position: .after(self))
            try context.pipeline.syncOperations.addHandler(EventRecorder(continuation, echo: true), position: .last)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
