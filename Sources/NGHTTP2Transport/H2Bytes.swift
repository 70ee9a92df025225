import GRPCCore
import NIOCore

/// The message bytes this transport hands to and takes from GRPCCore: a `ByteBuffer`, so a message read from
/// the socket reaches the deserializer, and a serialized message reaches nghttp2, without another copy.
public struct H2Bytes: GRPCContiguousBytes, Hashable, Sendable {
    public var buffer: ByteBuffer

    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    public init(repeating byte: UInt8, count: Int) {
        buffer = ByteBuffer(repeating: byte, count: count)
    }

    public init(_ sequence: some Sequence<UInt8>) {
        buffer = ByteBuffer(bytes: sequence)
    }

    public var count: Int { buffer.readableBytes }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}
