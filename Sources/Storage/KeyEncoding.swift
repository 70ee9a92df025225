/// Builds keys whose byte order (LMDB's default comparison) equals the order of the tuples they
/// encode: fixed-width integers are big-endian, and strings end with a 0x00 terminator so that a
/// string sorts before every longer string it prefixes ("user" < "user:1" < "user:10" < "user:2").
/// Strings must not contain 0x00 (callers validate this), which keeps the encoding prefix-free.
public struct KeyEncoder: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 32) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public init(prefix: [UInt8]) {
        bytes = prefix
    }

    public mutating func append(tag: UInt8) {
        bytes.append(tag)
    }

    public mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// A terminated string component.
    public mutating func append(_ value: String) {
        bytes.append(contentsOf: value.utf8)
        bytes.append(0)
    }

    /// Raw bytes with no terminator: only valid as the last component, or to build a prefix.
    public mutating func append(unterminated value: some Sequence<UInt8>) {
        bytes.append(contentsOf: value)
    }
}

/// Reads the components written by ``KeyEncoder`` back, in order.
public struct KeyDecoder {
    private let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int

    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func readTag() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return value
    }

    public mutating func readUInt64() -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return value
    }

    /// A terminated string component.
    public mutating func readString() -> String? {
        var end = offset
        while end < bytes.count, bytes[end] != 0 { end += 1 }
        guard end < bytes.count else { return nil }
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self)
        offset = end + 1
        return value
    }

    /// Everything left, as a string (the unterminated last component).
    public mutating func readRemainingString() -> String {
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<bytes.count]), as: UTF8.self)
        offset = bytes.count
        return value
    }
}

extension UnsafeRawBufferPointer {
    public func starts(with prefix: [UInt8]) -> Bool {
        guard count >= prefix.count else { return false }
        for i in 0..<prefix.count where self[i] != prefix[i] { return false }
        return true
    }
}

/// Fixed-width little helpers for record values.
public struct ValueWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func append(_ value: UInt8) {
        bytes.append(value)
    }
    public mutating func append(bytes more: some Sequence<UInt8>) {
        bytes.append(contentsOf: more)
    }
}

public struct ValueReader {
    private let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }
    public mutating func readUInt64() -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for i in (0..<8).reversed() { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return value
    }
    public mutating func readUInt8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }
    public mutating func readRest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }
}
