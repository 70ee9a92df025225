import Foundation

/// Counts the write transactions committed to the LMDB environments under a directory, by reading
/// the two meta pages at the start of each `data.mdb` (the newer one holds the last committed
/// transaction id). This lets the benchmark see the ODGM writer's group commit from outside the
/// process without any hook in the server. The layout is LMDB 0.9's on 64-bit hosts: a 16-byte page
/// header, then MDB_meta {magic u32, version u32, address, mapsize, 2 × MDB_db (48 bytes), last_pg,
/// txnid}; the magic number guards against misreading another layout.
enum LMDBCommits {
    private static let magic: UInt32 = 0xBEEF_C0DE
    private static let metaOffset = 16
    private static let pageSizeOffset = metaOffset + 24      // mm_dbs[0].md_pad holds the page size
    private static let txnidOffset = metaOffset + 128

    /// Sum of last committed transaction ids of every data.mdb under `directory`; nil if unreadable.
    static func committed(under directory: String) -> UInt64? {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return nil }
        var total: UInt64 = 0
        var found = false
        while let relative = walker.nextObject() as? String {
            guard (relative as NSString).lastPathComponent == "data.mdb" else { continue }
            guard let txnid = lastTransaction(file: (directory as NSString).appendingPathComponent(relative)) else { return nil }
            total += txnid
            found = true
        }
        return found ? total : nil
    }

    private static func lastTransaction(file: String) -> UInt64? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        guard let first = try? handle.read(upToCount: txnidOffset + 8), first.count == txnidOffset + 8,
              load(UInt32.self, first, metaOffset) == magic else { return nil }
        let pageSize = Int(load(UInt32.self, first, pageSizeOffset))
        guard pageSize >= 512, (try? handle.seek(toOffset: UInt64(pageSize))) != nil,
              let second = try? handle.read(upToCount: txnidOffset + 8), second.count == txnidOffset + 8,
              load(UInt32.self, second, metaOffset) == magic else { return nil }
        return max(load(UInt64.self, first, txnidOffset), load(UInt64.self, second, txnidOffset))
    }

    /// A little-endian integer (LMDB writes host order; this tool targets x86-64 and arm64 Linux).
    private static func load<T: FixedWidthInteger>(_ type: T.Type, _ data: Data, _ offset: Int) -> T {
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() {
            value = value << 8 | T(data[data.startIndex + offset + index])
        }
        return value
    }
}
