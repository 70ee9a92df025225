import Foundation
import OaaSCore
import OaaSProto
@testable import ODGM
import Storage
import Testing

/// The storage layout itself: one metadata record per object, one record per entry, no blobs.
@Suite struct StorageLayoutTests {
    @Test func objectIsOneMetadataRecordPlusOneRecordPerEntry() async throws {
        let t = try TestNode()
        _ = try await t.service.set(objectRequest(7, num: [1: "a", 2: "b"], strs: ["x": "c"]), context: ctx)
        _ = try await t.service.set(objectRequest(8, num: [1: "other"]), context: ctx)
        let shard = try #require(t.node.collection(named: "cls")?.shards[0] as? LocalShard)
        let prefix = ObjectKeys.objectPrefix(partitionPrefix: ObjectKeys.partitionPrefix(collection: "cls", partition: 0), id: .numeric(7))
        let records: [(tag: UInt8, size: Int)] = try shard.dbs.environment.read { txn in
            var out: [(UInt8, Int)] = []
            try txn.withCursor(shard.dbs.objects) { cursor in
                var entry = try cursor.seek(atOrAfter: prefix)
                while let current = entry, current.key.starts(with: prefix) {
                    out.append((current.key[prefix.count], current.value.count))
                    entry = try cursor.next()
                }
            }
            return out
        }
        #expect(records.map(\.tag) == [ObjectKeys.metaTag, ObjectKeys.numericEntryTag, ObjectKeys.numericEntryTag, ObjectKeys.stringEntryTag])
        // The metadata record holds version, liveness and count only: no copy of the entries.
        #expect(records[0].size < 32)
    }
}
