import Foundation
import GRPCCore

/// Pass-through (de)serializer: Forward relays request and response bytes without decoding them.
struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Data) throws -> Bytes {
        Bytes(message)
    }
}

struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Data {
        serializedMessageBytes.withUnsafeBytes { Data($0) }
    }
}
