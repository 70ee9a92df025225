import OaaSCore

/// Opaque, versioned list cursors (spec §4.4).
///
/// A cursor names the last item of a page by its logical key (never a storage key) and carries a
/// hash of the list's scope (class, partition, object), so a cursor from another object or
/// partition is rejected rather than silently restarting.
enum PageCursor {
    static let version: UInt8 = 1

    static func make(scope: UInt64, position: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [version]
        withUnsafeBytes(of: scope.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: position)
        return bytes
    }

    /// The position inside a cursor, or INVALID_ARGUMENT when it is not one of ours for this scope.
    static func position(of cursor: [UInt8], scope: UInt64) throws(OaaSError) -> [UInt8] {
        guard cursor.count > 9, cursor[0] == version else { throw invalid }
        var stored: UInt64 = 0
        for byte in cursor[1..<9] { stored = stored << 8 | UInt64(byte) }
        guard stored == scope else { throw invalid }
        return Array(cursor[9...])
    }

    static var invalid: OaaSError { OaaSError(.invalidArgument, "invalid cursor") }

    /// FNV-1a over the scope's parts.
    static func scope(_ parts: String...) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            hash ^= 0xff
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
