import Foundation
import OaaSProto
import Storage
import SwiftProtobuf

/// The one metadata record of an object: version, liveness, entry count and trigger config.
/// Entries are stored as separate records, never as a whole-object blob.
struct ObjectMeta: Sendable, Equatable {
    var version: UInt64
    var live: Bool
    var entryCount: UInt64
    var event: Oprc_ObjectEvent?

    static let format: UInt8 = 1

    func encoded() throws -> [UInt8] {
        var writer = ValueWriter()
        writer.append(Self.format)
        writer.append(version)
        writer.append(UInt8(live ? 1 : 0))
        writer.append(entryCount)
        if let event {
            writer.append(bytes: try event.serializedBytes() as [UInt8])
        }
        return writer.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> ObjectMeta {
        var reader = ValueReader(bytes)
        guard reader.readUInt8() == format,
              let version = reader.readUInt64(),
              let live = reader.readUInt8(),
              let count = reader.readUInt64() else {
            throw CorruptRecord("object metadata record is malformed")
        }
        let rest = reader.readRest()
        let event = rest.isEmpty ? nil : try Oprc_ObjectEvent(serializedBytes: rest)
        return ObjectMeta(version: version, live: live == 1, entryCount: count, event: event)
    }
}

/// A value record: its type tag, then the bytes as given.
enum ValueRecord {
    static func encode(_ value: Oprc_ValData) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.data.count + 4)
        withUnsafeBytes(of: Int32(truncatingIfNeeded: value.type.rawValue).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: value.data)
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> Oprc_ValData {
        var value = Oprc_ValData()
        guard bytes.count >= 4 else { return value }
        var raw: Int32 = 0
        for i in (0..<4).reversed() { raw = raw << 8 | Int32(bytes[i]) }
        // An unknown type is read as BYTE (spec §3.1).
        switch Oprc_ValType(rawValue: Int(raw)) {
        case .crdtMap: value.type = .crdtMap
        default: value.type = .byte
        }
        value.data = Data(bytes[4...])
        return value
    }
}

struct CorruptRecord: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) {
        self.description = description
    }
}
