import NIOCore
import NIOPosix
import OpenSSLTLS

/// What a test sees of one TLS connection, in order.
enum ConnectionEvent: Sendable {
    case handshake(TLSHandshakeCompleted)
    case data(ByteBuffer)
    case error(any Error)
    case closed
}

/// Forwards handshake, data, errors and closure of a channel into an `AsyncStream`.
final class EventRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let continuation: AsyncStream<ConnectionEvent>.Continuation
    private let echo: Bool

    init(_ continuation: AsyncStream<ConnectionEvent>.Continuation, echo: Bool = false) {
        self.continuation = continuation
        self.echo = echo
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let done = event as? TLSHandshakeCompleted {
            continuation.yield(.handshake(done))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if echo {
            context.write(data, promise: nil)
        } else {
            continuation.yield(.data(buffer))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if echo { context.flush() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.yield(.error(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.yield(.closed)
        continuation.finish()
    }
}

/// Splits every outbound write into tiny flushed pieces, so the peer sees TLS records cut at arbitrary points.
final class ByteSplitter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let pieceSize: Int
    init(pieceSize: Int) { self.pieceSize = pieceSize }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        while buffer.readableBytes > pieceSize, let piece = buffer.readSlice(length: pieceSize) {
            context.writeAndFlush(wrapOutboundOut(piece), promise: nil)
        }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}

/// An echo server with `OpenSSLHandler`; every accepted connection's events go into `connections`.
struct TLSEchoServer: Sendable {
    let channel: any Channel
    let connections: AsyncStream<AsyncStream<ConnectionEvent>>
    var port: Int { channel.localAddress?.port ?? 0 }

    static func start(_ tls: TLSContext) async throws -> TLSEchoServer {
        let (connections, accepted) = AsyncStream<AsyncStream<ConnectionEvent>>.makeStream()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (events, continuation) = AsyncStream<ConnectionEvent>.makeStream()
                    accepted.yield(events)
                    try channel.pipeline.syncOperations.addHandler(tls.makeHandler())
                    try channel.pipeline.syncOperations.addHandler(EventRecorder(continuation, echo: true))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        // Nothing in these tests should take this long: end the streams so a broken test fails instead of hanging.
        channel.eventLoop.scheduleTask(in: .seconds(30)) { accepted.finish() }
        channel.closeFuture.whenComplete { _ in accepted.finish() }
        return TLSEchoServer(channel: channel, connections: connections)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// A client connection with `OpenSSLHandler` and its event stream.
struct TLSTestClient: Sendable {
    let channel: any Channel
    let events: AsyncStream<ConnectionEvent>

    static func connect(
        port: Int,
        _ tls: TLSContext,
        serverName: String? = nil,
        splitWritesInto pieceSize: Int? = nil
    ) async throws -> TLSTestClient {
        let (events, continuation) = AsyncStream<ConnectionEvent>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let pieceSize {
                        try channel.pipeline.syncOperations.addHandler(ByteSplitter(pieceSize: pieceSize))
                    }
                    try channel.pipeline.syncOperations.addHandler(tls.makeHandler(serverName: serverName))
                    try channel.pipeline.syncOperations.addHandler(EventRecorder(continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        channel.eventLoop.scheduleTask(in: .seconds(30)) { channel.close(promise: nil) }
        return TLSTestClient(channel: channel, events: events)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }
}

/// Reads events until the handshake result: the summary, or the first error / closure.
func awaitHandshake(_ events: AsyncStream<ConnectionEvent>) async -> Result<TLSHandshakeCompleted, any Error> {
    for await event in events {
        switch event {
        case .handshake(let done): return .success(done)
        case .error(let error): return .failure(error)
        case .closed: return .failure(TLSError(.closed, "closed before the handshake completed"))
        case .data: continue
        }
    }
    return .failure(TLSError(.closed, "no handshake"))
}

/// Reads data events until `count` bytes arrived (or the connection ends) and returns them.
func readBytes(_ events: AsyncStream<ConnectionEvent>, count: Int) async -> [UInt8] {
    var received: [UInt8] = []
    received.reserveCapacity(count)
    for await event in events {
        if case .data(var buffer) = event, let bytes = buffer.readBytes(length: buffer.readableBytes) {
            received += bytes
            if received.count >= count { break }
        }
        if case .closed = event { break }
    }
    return received
}

/// Reads events until the connection closes; returns the first error seen, if any.
func awaitClose(_ events: AsyncStream<ConnectionEvent>) async -> (any Error)? {
    var first: (any Error)?
    for await event in events {
        if case .error(let error) = event, first == nil { first = error }
        if case .closed = event { break }
    }
    return first
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        var word = generator.next() as UInt64
        for _ in 0..<8 where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}
