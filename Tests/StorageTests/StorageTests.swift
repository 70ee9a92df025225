import Foundation
import Storage
import Testing

/// A fresh environment in its own temporary directory.
func makeEnvironment(durable: Bool = true) throws -> (Environment, String) {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-storage-\(UUID().uuidString)")
    return (try Environment(path: path, options: .init(mapSizeBytes: 64 << 20, durable: durable)), path)
}

@Suite struct KeyEncodingTests {
    private func key(_ build: (inout KeyEncoder) -> Void) -> [UInt8] {
        var encoder = KeyEncoder()
        build(&encoder)
        return encoder.bytes
    }

    @Test func integersSortNumerically() {
        let values: [UInt64] = [0, 1, 2, 255, 256, 65535, 1 << 32, UInt64.max]
        let keys = values.map { v in key { $0.append(v) } }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
        let small: [UInt32] = [0, 9, 10, 100, UInt32.max]
        let smallKeys = small.map { v in key { $0.append(v) } }
        #expect(smallKeys == smallKeys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test func stringsSortByBytesWithPrefixesFirst() {
        let strings = ["user", "user:1", "user:10", "user:2", "zzzzzz", "a", "user:"]
        let encoded = strings.map { s in key { $0.append(s); $0.append(UInt32(7)) } }
        let byKey = zip(strings, encoded).sorted { $0.1.lexicographicallyPrecedes($1.1) }.map(\.0)
        #expect(byKey == ["a", "user", "user:", "user:1", "user:10", "user:2", "zzzzzz"])
    }

    @Test func tuplesSortComponentWise() {
        let a = key { $0.append("cls"); $0.append(UInt32(1)); $0.append(tag: 2); $0.append("z") }
        let b = key { $0.append("cls"); $0.append(UInt32(2)); $0.append(tag: 1); $0.append(UInt64(1)) }
        let c = key { $0.append("cls2"); $0.append(UInt32(0)) }
        #expect(a.lexicographicallyPrecedes(b))
        #expect(b.lexicographicallyPrecedes(c))
    }

    @Test func decoderReadsBackComponents() {
        let bytes = key { $0.append("users"); $0.append(UInt32(65536)); $0.append(tag: 2); $0.append("user-42"); $0.append(UInt64.max) }
        bytes.withUnsafeBytes { raw in
            var decoder = KeyDecoder(raw)
            #expect(decoder.readString() == "users")
            #expect(decoder.readUInt32() == 65536)
            #expect(decoder.readTag() == 2)
            #expect(decoder.readString() == "user-42")
            #expect(decoder.readUInt64() == UInt64.max)
            #expect(decoder.isAtEnd)
            #expect(decoder.readUInt64() == nil)
        }
    }
}

@Suite struct TransactionTests {
    @Test func putGetDeleteAcrossTransactions() throws {
        let (env, path) = try makeEnvironment()
        defer { env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        try env.writeDirect { txn in
            try txn.put(db, [1, 2], [9])
            try txn.put(db, [1, 3], [8, 8])
        }
        #expect(try env.read { try $0.get(db, [1, 2]) } == [9])
        #expect(try env.read { try $0.get(db, [1, 4]) } == nil)
        let existed = try env.writeDirect { try $0.delete(db, [1, 2]) }
        let missing = try env.writeDirect { try $0.delete(db, [1, 2]) }
        #expect(existed && !missing)
        #expect(try env.read { try $0.get(db, [1, 2]) } == nil)
    }

    @Test func failedWriteIsRolledBack() throws {
        let (env, path) = try makeEnvironment()
        defer { env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try env.writeDirect { txn in
                try txn.put(db, [1], [1])
                throw Boom()
            }
        }
        #expect(try env.read { try $0.get(db, [1]) } == nil)
    }

    @Test func readersSeeASnapshot() throws {
        let (env, path) = try makeEnvironment()
        defer { env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        try env.writeDirect { try $0.put(db, [1], [1]) }
        try env.read { txn in
            try env.writeDirect { try $0.put(db, [1], [2]) }
            #expect(try txn.get(db, [1]) == [1])
        }
        #expect(try env.read { try $0.get(db, [1]) } == [2])
    }

    @Test func dataSurvivesReopen() throws {
        let (env, path) = try makeEnvironment()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        try env.writeDirect { try $0.put(db, [7], [7, 7]) }
        env.close()
        #expect(throws: StorageError.self) { try env.read { try $0.get(db, [7]) } }
        let reopened = try Environment(path: path)
        defer { reopened.close() }
        let again = try reopened.openDatabase("t")
        #expect(try reopened.read { try $0.get(again, [7]) } == [7, 7])
    }
}

@Suite struct CursorTests {
    @Test func seekAndIterateInKeyOrder() throws {
        let (env, path) = try makeEnvironment()
        defer { env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        let keys: [[UInt8]] = [[3], [1], [2, 0], [2], [4, 1]]
        try env.writeDirect { txn in for key in keys { try txn.put(db, key, key) } }
        let all = try env.read { txn in
            try txn.withCursor(db) { cursor -> [[UInt8]] in
                var out: [[UInt8]] = []
                var entry = try cursor.first()
                while let current = entry {
                    out.append(Array(current.key))
                    entry = try cursor.next()
                }
                return out
            }
        }
        #expect(all == [[1], [2], [2, 0], [3], [4, 1]])
        let fromTwoZero = try env.read { txn in try txn.withCursor(db) { try $0.seek(atOrAfter: [2, 0, 0]).map { Array($0.key) } } }
        #expect(fromTwoZero == [3])
        let last = try env.read { txn in try txn.withCursor(db) { try $0.last().map { Array($0.value) } } }
        #expect(last == [4, 1])
        let past = try env.read { txn in try txn.withCursor(db) { try $0.seek(atOrAfter: [9]) } }
        #expect(past == nil)
    }

    @Test func deletePrefixRemovesOnlyThePrefix() throws {
        let (env, path) = try makeEnvironment()
        defer { env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        try env.writeDirect { txn in
            for key: [UInt8] in [[1, 1], [1, 2], [1], [2, 1], [0, 9]] { try txn.put(db, key, [0]) }
        }
        let removed = try env.writeDirect { try $0.deletePrefix(db, [1]) }
        #expect(removed == 3)
        #expect(try env.read { try $0.get(db, [2, 1]) } == [0])
        #expect(try env.read { try $0.get(db, [0, 9]) } == [0])
    }
}

@Suite struct WriterTests {
    @Test func concurrentWritesShareCommits() async throws {
        let (env, path) = try makeEnvironment()
        let writer = Writer(environment: env)
        defer { writer.stop(); env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        let count = 400
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<count {
                group.addTask {
                    let key = withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }
                    try await writer.write { txn in try txn.put(db, key, key) }
                }
            }
            try await group.waitForAll()
        }
        let stored = try env.read { txn in
            try txn.withCursor(db) { cursor -> Int in
                var n = 0
                var entry = try cursor.first()
                while entry != nil { n += 1; entry = try cursor.next() }
                return n
            }
        }
        #expect(stored == count)
        let stats = writer.stats
        #expect(stats.mutations == UInt64(count))
        // Group commit: far fewer durable commits than mutations.
        #expect(stats.commits < UInt64(count))
    }

    @Test func readModifyWriteIsSerialized() async throws {
        let (env, path) = try makeEnvironment()
        let writer = Writer(environment: env)
        defer { writer.stop(); env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await writer.write { txn in
                        let current = try txn.get(db, [0]).map { Int($0[0]) + Int($0[1]) << 8 } ?? 0
                        let next = current + 1
                        try txn.put(db, [0], [UInt8(next & 0xFF), UInt8(next >> 8)])
                    }
                }
            }
            try await group.waitForAll()
        }
        let value = try env.read { try $0.get(db, [0]) }
        #expect(value.map { Int($0[0]) + Int($0[1]) << 8 } == 200)
    }

    @Test func aFailingBodyDoesNotTakeOthersDown() async throws {
        let (env, path) = try makeEnvironment()
        let writer = Writer(environment: env)
        defer { writer.stop(); env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        struct Refused: Error {}
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<50 {
                group.addTask {
                    do {
                        try await writer.write { txn in
                            try txn.put(db, [UInt8(i)], [1])
                            // Every fifth body fails after writing: its write must vanish.
                            if i % 5 == 0 { throw Refused() }
                        }
                        return (i, true)
                    } catch {
                        return (i, false)
                    }
                }
            }
            var out: [(Int, Bool)] = []
            for await result in group { out.append(result) }
            return out
        }
        for (i, succeeded) in results {
            #expect(succeeded == (i % 5 != 0))
            let stored = try env.read { try $0.get(db, [UInt8(i)]) }
            #expect((stored != nil) == succeeded)
        }
    }

    @Test func stoppedWriterRefusesWrites() async throws {
        let (env, path) = try makeEnvironment()
        let writer = Writer(environment: env)
        defer { env.close(); try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        try await writer.write { try $0.put(db, [1], [1]) }
        writer.stop()
        await #expect(throws: StorageError.self) {
            try await writer.write { try $0.put(db, [2], [2]) }
        }
        #expect(try env.read { try $0.get(db, [1]) } == [1])
    }

    /// Closing while readers run must neither crash nor cut a reader short: each read either completes on an
    /// open environment or fails with `closed` before it starts.
    @Test func closeWaitsForReadersInFlight() async throws {
        let (env, path) = try makeEnvironment()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try env.openDatabase("t")
        try env.writeDirect { txn in
            for key in 0..<200 { try txn.put(db, [UInt8(key)], [UInt8](repeating: 7, count: 256)) }
        }
        let outcomes = await withTaskGroup(of: (completed: Int, refused: Int).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var completed = 0, refused = 0
                    for _ in 0..<2_000 {
                        do {
                            let total = try env.read { txn in
                                try (0..<200).reduce(0) { $0 + (try txn.get(db, [UInt8($1)])?.count ?? 0) }
                            }
                            #expect(total == 200 * 256)
                            completed += 1
                        } catch let error as StorageError {
                            #expect(error.kind == .closed)
                            refused += 1
                        } catch {
                            Issue.record("unexpected error \(error)")
                        }
                    }
                    return (completed, refused)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(5))
                env.close()
                return (0, 0)
            }
            return await group.reduce(into: (completed: 0, refused: 0)) { $0.completed += $1.completed; $0.refused += $1.refused }
        }
        #expect(outcomes.completed + outcomes.refused == 8_000)
        #expect(env.isClosed)
    }
}
