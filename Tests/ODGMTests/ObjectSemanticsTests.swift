import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing

@Suite struct IdentityTests {
    @Test func stringIdsAreNormalizedAndValidated() async throws {
        let t = try TestNode()
        _ = try await t.service.set(objectRequest(str: "User-ABC.01"), context: ctx)
        let got = try await t.service.get(single(str: "user-abc.01"), context: ctx)
        #expect(got.obj.metadata.objectIDStr == "user-abc.01")
        for bad in ["Bad$", "a_b", String(repeating: "x", count: 161), ""] {
            #expect(await errorCode { _ = try await t.service.set(objectRequest(str: bad), context: ctx) } == .invalidObjectId)
        }
        #expect(await errorCode { _ = try await t.service.get(single(5, str: "x"), context: ctx) } == .invalidObjectId)
        #expect(await errorCode { _ = try await t.service.get(single(0), context: ctx) } == .invalidObjectId)
    }

    @Test func numericAndStringIdsAreSeparateNamespaces() async throws {
        let t = try TestNode()
        _ = try await t.service.set(objectRequest(42, num: [1: "numeric"]), context: ctx)
        _ = try await t.service.set(objectRequest(str: "42", num: [1: "string"]), context: ctx)
        #expect(text(try await t.service.get(single(42), context: ctx).obj.entries[1]) == "numeric")
        #expect(text(try await t.service.get(single(str: "42"), context: ctx).obj.entries[1]) == "string")
    }

    @Test func classAndPartitionAreChecked() async throws {
        let t = try TestNode()
        #expect(await errorCode { _ = try await t.service.get(single(1, cls: ""), context: ctx) } == .invalidArgument)
        #expect(await errorCode { _ = try await t.service.get(single(1, cls: "nope"), context: ctx) } == .noClass)
        #expect(await errorCode { _ = try await t.service.get(single(1, pid: 4), context: ctx) } == .noPartition)
        #expect(await errorCode { _ = try await t.service.set(objectRequest(1, pid: -1), context: ctx) } == .invalidArgument)
        // An unknown class stays unknown outside dev mode, even for writes.
        #expect(await errorCode { _ = try await t.service.set(objectRequest(1, cls: "users"), context: ctx) } == .noClass)
    }
}

@Suite struct ObjectCRUDTests {
    @Test func stringSetIsCreateOnly() async throws {
        let t = try TestNode()
        let v1 = try await t.service.set(objectRequest(str: "a"), context: ctx)
        #expect(v1 == 1)
        let got = try await t.service.get(single(str: "a"), context: ctx)
        #expect(got.objectVersion == 1 && got.obj.entries.isEmpty && got.obj.entriesStr.isEmpty)
        #expect(await errorCode { _ = try await t.service.set(objectRequest(str: "a"), context: ctx) } == .alreadyExists)
    }

    @Test func concurrentStringCreatesHaveOneWinner() async throws {
        let t = try TestNode()
        let service = t.service
        let wins = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask { (try? await service.set(objectRequest(str: "race", strs: ["n": "\(i)"]), context: ctx)) != nil }
            }
            var count = 0
            for await won in group where won { count += 1 }
            return count
        }
        #expect(wins == 1)
    }

    @Test func numericSetReplacesTheWholeObject() async throws {
        let t = try TestNode()
        _ = try await t.service.set(objectRequest(7, num: [1: "a", 2: "b"]), context: ctx)
        let v = try await t.service.set(objectRequest(7, num: [2: "B", 3: "c"]), context: ctx)
        #expect(v == 2)
        let got = try await t.service.get(single(7), context: ctx).obj
        #expect(got.entries.keys.sorted() == [2, 3])
        #expect(text(got.entries[2]) == "B")
    }

    @Test func mergeKeepsAddsAndCreates() async throws {
        let t = try TestNode()
        let created = try await t.service.merge(objectRequest(str: "m", strs: ["a": "1"]), context: ctx)
        #expect(created.objectVersion == 1)
        let merged = try await t.service.merge(objectRequest(str: "m", num: [5: "five"], strs: ["a": "2", "b": "3"]), context: ctx)
        #expect(merged.objectVersion == 2)
        #expect(text(merged.obj.entriesStr["a"]) == "2" && text(merged.obj.entriesStr["b"]) == "3" && text(merged.obj.entries[5]) == "five")
        // An empty merge is a no-op that returns the object, and never creates one.
        let same = try await t.service.merge(objectRequest(str: "m"), context: ctx)
        #expect(same.objectVersion == 2 && same.obj.entriesStr.count == 2)
        #expect(await errorCode { _ = try await t.service.merge(objectRequest(str: "absent"), context: ctx) } == .noObject)
    }

    @Test func deleteThenCleanRecreateWithHigherVersion() async throws {
        let t = try TestNode()
        _ = try await t.service.set(objectRequest(str: "d", strs: ["x": "1", "y": "2"]), context: ctx)
        let tomb = try await t.service.delete(single(str: "d"), context: ctx)
        #expect(tomb == 2)
        #expect(await errorCode { _ = try await t.service.get(single(str: "d"), context: ctx) } == .noObject)
        #expect(await errorCode { _ = try await t.service.delete(single(str: "d"), context: ctx) } == .noObject)
        let again = try await t.service.set(objectRequest(str: "d", strs: ["z": "3"]), context: ctx)
        #expect(again == 3)
        let got = try await t.service.get(single(str: "d"), context: ctx).obj
        #expect(Array(got.entriesStr.keys) == ["z"])
    }

    @Test func setWithoutObjectIsInvalidAndServiceKeepsServing() async throws {
        let t = try TestNode()
        var request = objectRequest(1)
        request.clearObject()
        #expect(await errorCode { _ = try await t.service.set(request, context: ctx) } == .invalidArgument)
        #expect(try await t.service.set(objectRequest(1), context: ctx) == 1)
    }

    @Test func keysAreExactAndKindsSeparate() async throws {
        let t = try TestNode()
        _ = try await t.service.set(objectRequest(str: "99", num: [1: "one", 2: "two"], strs: ["status": "ok", "Name": "N", "1": "str-one"]), context: ctx)
        let got = try await t.service.get(single(str: "99"), context: ctx).obj
        #expect(text(got.entries[1]) == "one" && text(got.entriesStr["1"]) == "str-one")
        let upper = try await t.service.getValue(keyRequest(str: "99", keyStr: "Name"), context: ctx)
        let lower = try await t.service.getValue(keyRequest(str: "99", keyStr: "name"), context: ctx)
        #expect(text(upper.value) == "N")
        #expect(!lower.hasValue && lower.objectVersion == 1 && lower.key == "name")
        #expect(await errorCode { _ = try await t.service.getValue(keyRequest(str: "99", key: 3, keyStr: "x"), context: ctx) } == .invalidArgument)
    }
}

@Suite struct VersionAndCASTests {
    @Test func versionsStepOncePerMutation() async throws {
        let t = try TestNode()
        #expect(try await t.service.setValue(setKey(1, key: 1, value: "a"), context: ctx) == 1)
        #expect(try await t.service.setValue(setKey(1, key: 1, value: "b"), context: ctx) == 2)
        #expect(try await t.service.deleteValue(keyRequest(1, key: 1), context: ctx) == 3)
        // Deleting an absent key is an OK no-op without a bump.
        #expect(try await t.service.deleteValue(keyRequest(1, key: 1), context: ctx) == 3)
        #expect(await errorCode { _ = try await t.service.deleteValue(keyRequest(2, key: 1), context: ctx) } == .noObject)

        var batch = Oprc_BatchSetValuesRequest()
        batch.clsID = "cls"
        batch.objectID = 1
        batch.values = ["a": val("1"), "b": val("2")]
        #expect(try await t.service.batchSetValues(batch, context: ctx) == 4)
        var empty = Oprc_BatchSetValuesRequest()
        empty.clsID = "cls"
        empty.objectID = 1
        #expect(try await t.service.batchSetValues(empty, context: ctx) == 4)
    }

    @Test func casIsCheckedAtomically() async throws {
        let t = try TestNode()
        func batch(_ expected: UInt64?, _ key: String) -> Oprc_BatchSetValuesRequest {
            var request = Oprc_BatchSetValuesRequest()
            request.clsID = "cls"
            request.objectIDStr = "cas"
            request.values = [key: val(key)]
            if let expected { request.expectedObjectVersion = expected }
            return request
        }
        #expect(try await t.service.batchSetValues(batch(0, "a"), context: ctx) == 1)
        #expect(await errorCode { _ = try await t.service.batchSetValues(batch(0, "b"), context: ctx) } == .versionMismatch)
        #expect(try await t.service.batchSetValues(batch(1, "b"), context: ctx) == 2)
        #expect(await errorCode { _ = try await t.service.batchSetValues(batch(1, "c"), context: ctx) } == .versionMismatch)
        let service = t.service
        let winners = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<2 { group.addTask { (try? await service.batchSetValues(batch(2, "race\(i)"), context: ctx)) != nil } }
            var n = 0
            for await won in group where won { n += 1 }
            return n
        }
        #expect(winners == 1)
        var both = batch(nil, "k")
        both.deleteKeys = ["k"]
        #expect(await errorCode { _ = try await t.service.batchSetValues(both, context: ctx) } == .invalidArgument)
    }

    @Test func batchWithoutSetsOnMissingObjectIsNotFound() async throws {
        let t = try TestNode()
        var request = Oprc_BatchSetValuesRequest()
        request.clsID = "cls"
        request.objectID = 9
        request.deleteKeysNum = [1]
        #expect(await errorCode { _ = try await t.service.batchSetValues(request, context: ctx) } == .noObject)
    }
}

@Suite struct ListingTests {
    @Test func listValuesPagesVisitEveryKeyOnceInOrder() async throws {
        let t = try TestNode()
        _ = try await t.service.set(objectRequest(1, num: [10: "x", 2: "y"], strs: ["user:1": "a", "zzzzzz": "b", "user:10": "c", "b": "d"]), context: ctx)
        var request = Oprc_ListValuesRequest()
        request.clsID = "cls"
        request.objectID = 1
        request.limit = 1
        var seen: [String] = []
        while true {
            let page = try await t.service.listValues(request, context: ctx)
            #expect(page.version == 1)
            seen += page.entries.map(\.key)
            guard let last = page.entries.last, last.hasNextCursor else { break }
            request.cursor = last.nextCursor
        }
        #expect(seen == ["2", "10", "b", "user:1", "user:10", "zzzzzz"])

        var prefixed = Oprc_ListValuesRequest()
        prefixed.clsID = "cls"
        prefixed.objectID = 1
        prefixed.keyPrefix = "user:"
        #expect(try await t.service.listValues(prefixed, context: ctx).entries.map(\.key) == ["user:1", "user:10"])

        var bad = prefixed
        bad.cursor = Data([1, 2, 3])
        #expect(await errorCode { _ = try await t.service.listValues(bad, context: ctx) } == .invalidArgument)
    }

    @Test func listObjectsPagesSkipTombstonesAndCount() async throws {
        let t = try TestNode()
        for i in 1...3 { _ = try await t.service.set(objectRequest(UInt64(i), num: [1: "a", 2: "b", 3: "c"]), context: ctx) }
        for id in ["a-1", "a_", "b:2"] where id != "a_" { _ = try await t.service.set(objectRequest(str: id), context: ctx) }
        _ = try await t.service.set(objectRequest(str: "gone"), context: ctx)
        _ = try await t.service.delete(single(str: "gone"), context: ctx)

        var request = Oprc_ListObjectsRequest()
        request.clsID = "cls"
        request.limit = 3
        let first = try await t.service.listObjects(request, context: ctx)
        #expect(first.map { $0.hasObjectID ? String($0.objectID) : $0.objectIDStr } == ["1", "2", "3"])
        #expect(first[0].entryCount == 3)
        request.cursor = try #require(first.last?.nextCursor)
        let second = try await t.service.listObjects(request, context: ctx)
        #expect(second.map(\.objectIDStr) == ["a-1", "b:2"])
        #expect(second.last?.hasNextCursor == false)

        var prefixed = Oprc_ListObjectsRequest()
        prefixed.clsID = "cls"
        prefixed.objectIDPrefix = "A-"
        #expect(try await t.service.listObjects(prefixed, context: ctx).map(\.objectIDStr) == ["a-1"])
        prefixed.objectIDPrefix = "_"
        #expect(try await t.service.listObjects(prefixed, context: ctx).isEmpty)

        let stats = try await t.service.stats(context: ctx)
        #expect(stats.shards.first { $0.partitionID == 0 }?.count == 5)
        #expect(stats.shards.count == 4)
    }
}

@Suite struct DurabilityAndModesTests {
    @Test func dataSurvivesReopen() async throws {
        let t = try TestNode()
        _ = try await t.service.set(objectRequest(str: "keep", strs: ["k": "v"]), context: ctx)
        let again = try t.reopened()
        let got = try await again.get(single(str: "keep"), context: ctx)
        #expect(text(got.obj.entriesStr["k"]) == "v" && got.objectVersion == 1)
    }

    @Test func devModeAutoCreatesOnWritesOnly() async throws {
        let t = try TestNode(autoCreate: true)
        #expect(await errorCode { _ = try await t.service.get(single(str: "x", cls: "users"), context: ctx) } == .noClass)
        #expect(await errorCode { _ = try await t.service.set(objectRequest(str: "x", pid: 16, cls: "users"), context: ctx) } == .noPartition)
        #expect(t.node.collection(named: "users") == nil)
        _ = try await t.service.set(objectRequest(str: "user-42", cls: "users", strs: ["name": "alice"]), context: ctx)
        #expect(t.node.collection(named: "users")?.spec.partitionCount == 16)
        let again = try t.reopened(autoCreate: true)
        #expect(text(try await again.getValue(keyRequest(str: "user-42", keyStr: "name", cls: "users"), context: ctx).value) == "alice")
    }

    @Test func memoryBackendBehavesTheSame() async throws {
        let t = try TestNode { config in
            config.collections[0].options = ["storage_backend": "memory"]
        }
        _ = try await t.service.set(objectRequest(str: "m", strs: ["a": "1"]), context: ctx)
        #expect(await errorCode { _ = try await t.service.set(objectRequest(str: "m"), context: ctx) } == .alreadyExists)
        #expect(text(try await t.service.getValue(keyRequest(str: "m", keyStr: "a"), context: ctx).value) == "1")
    }

    @Test func stringIdSwitchRefusesOnlyCreation() async throws {
        let t = try TestNode { $0.enableStringIds = false }
        #expect(await errorCode { _ = try await t.service.set(objectRequest(str: "new"), context: ctx) } == .unimplemented)
        #expect(try await t.service.set(objectRequest(5), context: ctx) == 1)
    }
}

@Suite struct CollectionConfigTests {
    @Test func parsesAndValidatesCollectionJSON() throws {
        let list = try CollectionSpec.parseList(#"[{"name":"a","partition_count":2,"shard_type":"NONE","options":{"invoke_only_primary":"true"}}]"#, source: "ODGM_COLLECTION")
        let spec = try CollectionSpec(list[0], members: [1])
        #expect(spec.partitionCount == 2 && spec.options.invokeOnlyPrimary)
        #expect(spec.placements.map { $0.map(\.shardID) } == [[1], [2]])
        #expect(throws: ConfigurationError.self) { try CollectionSpec.parseList("[{", source: "ODGM_COLLECTION") }
        var bad = Oprc_CreateCollectionRequest()
        bad.name = "b"
        bad.shardType = "paxos"
        #expect(throws: ConfigurationError.self) { try CollectionSpec(bad, members: [1]) }
        bad.shardType = "none"
        bad.partitionCount = 70000
        #expect(throws: ConfigurationError.self) { try CollectionSpec(bad, members: [1]) }
    }

    @Test func noneShardsHaveExactlyOneReplica() throws {
        var request = Oprc_CreateCollectionRequest()
        request.name = "p"
        request.partitionCount = 2
        request.replicaCount = 2
        request.shardType = "none"
        #expect(throws: ConfigurationError.self) { try CollectionSpec(request, members: [1, 2, 3]) }
    }
}

@Suite struct ExampleConfigTests {
    @Test func shippedCollectionExampleIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("config/examples/collections.json"), encoding: .utf8)
        let requests = try CollectionSpec.parseList(text, source: "collections.json")
        let specs = try requests.map { try CollectionSpec($0, members: [1]) }
        #expect(specs.map(\.name) == ["users", "sessions"])
        #expect(specs[1].options.storageBackend == .memory)
    }
}
