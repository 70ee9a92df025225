import Storage

extension AsyncCallStore {
    /// Deletes up to `limit` DONE records whose retention ended at or before `nowMs`, in one
    /// write; returns how many expiry entries it consumed (`limit` means there may be more).
    func purgeExpired(nowMs: UInt64, limit: Int) async throws -> Int {
        try await dbs.writer.write { [self] txn -> Int in
            var due: [(index: [UInt8], key: AsyncCallKey, expiresAtMs: UInt64)] = []
            try txn.withCursor(dbs.asyncIndex) { cursor in
                var entry = try cursor.seek(atOrAfter: [AsyncKeys.expiryTag])
                while let current = entry, due.count < limit, current.key.first == AsyncKeys.expiryTag {
                    guard let decoded = AsyncKeys.decodeIndex(current.key) else {
                        // Not one of ours: skip it rather than stop purging behind it.
                        entry = try cursor.next()
                        continue
                    }
                    if decoded.time > nowMs { break }
                    due.append((Array(current.key), decoded.key, decoded.time))
                    entry = try cursor.next()
                }
            }
            // Deletes after the scan: a cursor is not kept across changes to its database.
            for item in due {
                let record = try? load(txn, item.key)
                // A record re-submitted under the same id after its data was dropped is not ours to delete.
                if record == nil || (record?.state == .done && record?.expiresAtMs == item.expiresAtMs) {
                    try txn.delete(dbs.asyncCalls, AsyncKeys.record(item.key))
                }
                try txn.delete(dbs.asyncIndex, item.index)
            }
            return due.count
        }
    }
}
