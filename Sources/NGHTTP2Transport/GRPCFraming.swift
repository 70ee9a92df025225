import GRPCCore
import NIOCore

/// gRPC's length-prefixed message framing (1 byte compressed flag, 4 bytes big-endian length, payload).
/// Compression is not negotiated by this transport (no `grpc-accept-encoding` is advertised), so a compressed
/// message is a protocol error.
public struct GRPCMessageDeframer: Sendable {
    public let maxMessageBytes: Int
    private var pending: ByteBuffer

    public init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
        pending = ByteBuffer()
    }

    /// Adds bytes received in DATA frames.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        pending.writeBytes(bytes)
    }

    public mutating func append(_ bytes: ByteBuffer) {
        var copy = bytes
        pending.writeBuffer(&copy)
    }

    /// True when a message has started but not all of it has arrived.
    public var hasPartialMessage: Bool { pending.readableBytes > 0 }

    /// The next complete message, or nil until more bytes arrive.
    public mutating func next() throws(RPCError) -> ByteBuffer? {
        guard pending.readableBytes >= 5,
              let flag = pending.getInteger(at: pending.readerIndex, as: UInt8.self),
              let length = pending.getInteger(at: pending.readerIndex + 1, as: UInt32.self)
        else { return nil }
        if flag != 0 {
            throw RPCError(code: .internalError, message: "compressed message received but no compression was negotiated")
        }
        if Int(length) > maxMessageBytes {
            throw RPCError(
                code: .resourceExhausted,
                message: "message of \(length) bytes exceeds the limit of \(maxMessageBytes) bytes")
        }
        guard pending.readableBytes >= 5 + Int(length) else { return nil }
        pending.moveReaderIndex(forwardBy: 5)
        // readSlice is a view: the message keeps the receive buffer alive only until it is decoded.
        guard let message = pending.readSlice(length: Int(length)) else { return nil }
        if pending.readableBytes == 0 {
            pending.clear()
        } else if pending.readerIndex > 64 * 1024 {
            pending.discardReadBytes()
        }
        return message
    }
}

public enum GRPCMessageFramer {
    /// Appends one framed, uncompressed message to `buffer`.
    public static func frame(_ message: some GRPCContiguousBytes, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(message.count))
        _ = message.withUnsafeBytes { buffer.writeBytes($0) }
    }

    public static func frame(_ message: ByteBuffer, into buffer: inout ByteBuffer) {
        var message = message
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(message.readableBytes))
        buffer.writeBuffer(&message)
    }
}
