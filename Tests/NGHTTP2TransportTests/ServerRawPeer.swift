import NIOCore
import NIOPosix
import Synchronization

/// A hand-driven HTTP/2 peer on a plain TCP socket: writes whatever bytes a test builds (valid or not) and
/// records what the server sends back. No HTTP/2 library on this side, so malformed input is possible.
final class ServerRawPeer: Sendable {
    let channel: any Channel
    private let sink: Sink

    final class Sink: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.bytes.append(contentsOf: buffer.readableBytesView) }
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            // The server closed its side (we allow half-closure so tests can close only our output).
            if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed { state.withLock { $0.closed = true } }
        }
        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    private init(channel: any Channel, sink: Sink) {
        self.channel = channel
        self.sink = sink
    }

    /// `reading: false` never reads the socket, so the server's writes back up in TCP buffers.
    static func connect(port: Int, reading: Bool = true) async throws -> ServerRawPeer {
        let sink = Sink()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: reading)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(sink) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return ServerRawPeer(channel: channel, sink: sink)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    var isClosed: Bool { sink.state.withLock { $0.closed } }
    var received: [UInt8] { sink.state.withLock { $0.bytes } }

    /// Frames received so far (a trailing partial frame is left out).
    var frames: [H2Frame] {
        var frames: [H2Frame] = []
        let bytes = received
        var index = 0
        while index + 9 <= bytes.count {
            let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            guard index + 9 + length <= bytes.count else { break }
            let stream = (UInt32(bytes[index + 5]) << 24 | UInt32(bytes[index + 6]) << 16
                | UInt32(bytes[index + 7]) << 8 | UInt32(bytes[index + 8])) & 0x7fff_ffff
            frames.append(H2Frame(type: bytes[index + 3], flags: bytes[index + 4], stream: stream,
                                  payload: Array(bytes[(index + 9)..<(index + 9 + length)])))
            index += 9 + length
        }
        return frames
    }

    func close() async {
        try? await channel.close()
    }

    /// Closes with SO_LINGER 0: the kernel sends a TCP RST instead of a FIN.
    func reset() async {
        if let provider = channel as? any SocketOptionProvider {
            _ = try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close()
    }
}

struct H2Frame {
    var type: UInt8
    var flags: UInt8
    var stream: UInt32
    var payload: [UInt8]

    static let data: UInt8 = 0, headers: UInt8 = 1, rstStream: UInt8 = 3, settings: UInt8 = 4, ping: UInt8 = 6
    static let goAway: UInt8 = 7, windowUpdate: UInt8 = 8, continuation: UInt8 = 9

    var errorCode: UInt32? {
        let offset: Int
        switch type {
        case Self.rstStream: offset = 0
        case Self.goAway: offset = 4
        default: return nil
        }
        guard payload.count >= offset + 4 else { return nil }
        return payload[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// Builders for raw HTTP/2 bytes (RFC 9113) and HPACK literals (RFC 7541, no Huffman).
enum H2 {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    static let endStream: UInt8 = 0x1, endHeaders: UInt8 = 0x4, ack: UInt8 = 0x1

    static func frame(type: UInt8, flags: UInt8 = 0, stream: UInt32, payload: [UInt8], length: Int? = nil) -> [UInt8] {
        let length = length ?? payload.count
        var bytes = [UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
                     UInt8(truncatingIfNeeded: length), type, flags]
        bytes += [UInt8(truncatingIfNeeded: stream >> 24), UInt8(truncatingIfNeeded: stream >> 16),
                  UInt8(truncatingIfNeeded: stream >> 8), UInt8(truncatingIfNeeded: stream)]
        return bytes + payload
    }

    static func settings(_ entries: [(UInt16, UInt32)] = []) -> [UInt8] {
        var payload: [UInt8] = []
        for (id, value) in entries {
            payload += [UInt8(id >> 8), UInt8(id & 0xff)]
            payload += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
        }
        return frame(type: H2Frame.settings, stream: 0, payload: payload)
    }

    static var settingsAck: [UInt8] { frame(type: H2Frame.settings, flags: ack, stream: 0, payload: []) }

    /// Preface, empty SETTINGS, and an ACK of the server's SETTINGS (always its first frame).
    static var opening: [UInt8] { preface + settings() + settingsAck }

    static func windowUpdate(stream: UInt32, increment: UInt32) -> [UInt8] {
        frame(type: H2Frame.windowUpdate, stream: stream,
              payload: [UInt8(increment >> 24), UInt8((increment >> 16) & 0xff), UInt8((increment >> 8) & 0xff), UInt8(increment & 0xff)])
    }

    static func rstStream(stream: UInt32, code: UInt32 = 8) -> [UInt8] {
        frame(type: H2Frame.rstStream, stream: stream, payload: [0, 0, 0, UInt8(code)])
    }

    /// HPACK integer with an N-bit prefix; `first` carries the pattern bits above the prefix.
    static func integer(_ value: Int, prefixBits: Int, first: UInt8) -> [UInt8] {
        let limit = (1 << prefixBits) - 1
        if value < limit { return [first | UInt8(value)] }
        var bytes = [first | UInt8(limit)]
        var rest = value - limit
        while rest >= 128 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
        return bytes
    }

    static func string(_ text: [UInt8]) -> [UInt8] { integer(text.count, prefixBits: 7, first: 0) + text }

    /// Literal header field without indexing, new name.
    static func literal(_ name: String, _ value: String) -> [UInt8] {
        [0x00] + string(Array(name.utf8)) + string(Array(value.utf8))
    }

    /// Literal header field with incremental indexing (enters the dynamic table), new name.
    static func indexedLiteral(_ name: String, _ value: [UInt8]) -> [UInt8] {
        [0x40] + string(Array(name.utf8)) + string(value)
    }

    static func indexed(_ index: Int) -> [UInt8] { integer(index, prefixBits: 7, first: 0x80) }

    static func requestBlock(path: String, contentType: String = "application/grpc", method: String = "POST") -> [UInt8] {
        literal(":method", method) + literal(":scheme", "http") + literal(":path", path)
            + literal(":authority", "localhost") + literal("content-type", contentType) + literal("te", "trailers")
    }

    static func headers(stream: UInt32, block: [UInt8], endStream: Bool) -> [UInt8] {
        frame(type: H2Frame.headers, flags: endHeaders | (endStream ? Self.endStream : 0), stream: stream, payload: block)
    }

    static func message(stream: UInt32, _ payload: [UInt8], endStream: Bool = true) -> [UInt8] {
        let length = UInt32(payload.count)
        let body = [0, UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)] + payload
        return frame(type: H2Frame.data, flags: endStream ? Self.endStream : 0, stream: stream, payload: body)
    }
}
