import Foundation
import HTTPTypes
import HummingbirdTesting
import OaaSCore
import OaaSProto
import Testing

@testable import Gateway

@Suite("REST entries")
struct RESTEntryTests {
    @Test func rawValueRoundTrip() async throws {
        try await GatewayHarness().run { client in
            // Whatever the Content-Type, the bytes are stored verbatim.
            let put = try await client.send(.put, Path.stringObject("user-1") + "/entries/name", headers: headers(("Content-Type", "text/plain")), body: Data("alice".utf8))
            #expect(put.status == .noContent)
            #expect(put.version == "1")
            #expect(put.body.readableBytes == 0)

            let get = try await client.send(.get, Path.stringObject("user-1") + "/entries/name")
            #expect(get.status == .ok)
            #expect(get.text == "alice")
            #expect(get.contentType == "application/octet-stream")
            #expect(get.valueType == "byte")
            #expect(get.version == "1")
        }
    }

    @Test func valueTypeHeader() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let put = try await client.send(.put, Path.object("1") + "/entries/5", headers: headers(("x-oprc-val-type", "crdt_map")), body: Data([1, 2, 3]))
            #expect(put.status == .noContent)
            let get = try await client.send(.get, Path.object("1") + "/entries/5")
            #expect(get.valueType == "crdt_map")
            #expect(Array(get.body.readableBytesView) == [1, 2, 3])

            let bad = try expectError(try await client.send(.put, Path.object("1") + "/entries/5", headers: headers(("x-oprc-val-type", "json")), body: Data()), 400, "INVALID_ARGUMENT")
            #expect(bad.contains("x-oprc-val-type"))
        }
        #expect(await harness.store.callNames == ["setValue", "getValue"])
    }

    @Test func protobufBodyIsAValData() async throws {
        try await GatewayHarness().run { client in
            let put = try await client.send(.put, Path.object("1") + "/entries-str/doc", proto: value("{}", .crdtMap))
            #expect(put.status == .noContent)
            let get = try await client.send(.get, Path.object("1") + "/entries-str/doc")
            #expect(get.text == "{}")
            #expect(get.valueType == "crdt_map")
            let bad = try await client.send(.put, Path.object("1") + "/entries/2", headers: headers(("Content-Type", "application/x-protobuf")), body: Data([0x0A, 0x09]))
            try expectError(bad, 400, "INVALID_ARGUMENT")
        }
    }

    @Test func getValueAsJSON() async throws {
        try await GatewayHarness().run { client in
            _ = try await client.send(.put, Path.object("1") + "/entries/3", body: Data("three".utf8))
            let get = try await client.send(.get, Path.object("1") + "/entries/3", headers: headers(("Accept", "application/json")))
            #expect(get.status == .ok)
            #expect(get.contentType == "application/json")
            #expect(get.version == "1")
            let body = try get.jsonObject()
            #expect(body["key"] as? String == "3")
            #expect(body["object_version"] as? Int == 1)
            let value = try #require(body["value"] as? [String: Any])
            #expect(value["data"] as? String == "dGhyZWU=")
            #expect(value["type"] as? Int == 0)
        }
    }

    @Test func keyPathRules() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let base = Path.object("1")
            for path in ["entries/0", "entries/1", "entries/4294967295", "entries/4294967296", "entries/007", "entries-str/1", "entries/a%2Fb", "entries/Name", "entries/name"] {
                let response = try await client.send(.put, "\(base)/\(path)", body: Data(path.utf8))
                #expect(response.status == .noContent, "\(path)")
            }
        }
        let stored = try #require(await harness.store.objects[FakeObjectStore.Key(cls: "users", partition: 0, id: .numeric(1))])
        #expect(Set(stored.entries.keys) == [0, 1, 4_294_967_295])
        #expect(Set(stored.entriesStr.keys) == ["4294967296", "007", "1", "a/b", "Name", "name"])
        // String keys are exact: `Name` and `name` are two entries.
        #expect(stored.entriesStr["Name"]?.data == Data("entries/Name".utf8))
        #expect(stored.entries[1]?.data == Data("entries/1".utf8))
        #expect(stored.entriesStr["1"]?.data == Data("entries-str/1".utf8))
    }

    @Test func absentKeyAndMissingObject() async throws {
        try await GatewayHarness().run { client in
            try expectError(try await client.send(.get, Path.object("1") + "/entries/1"), 404, "NO_OBJECT")
            try expectError(try await client.send(.delete, Path.object("1") + "/entries/1"), 404, "NO_OBJECT")
            _ = try await client.send(.put, Path.object("1") + "/entries/1", body: Data("x".utf8))
            try expectError(try await client.send(.get, Path.object("1") + "/entries/2"), 404, "NO_ENTRY")
            try expectError(try await client.send(.get, Path.object("1") + "/entries-str/missing"), 404, "NO_ENTRY")
            try expectError(try await client.send(.get, Path.object("1") + "/entries-str/missing", headers: headers(("Accept", "application/json"))), 404, "NO_ENTRY")
        }
    }

    @Test func deleteEntry() async throws {
        try await GatewayHarness().run { client in
            _ = try await client.send(.put, Path.object("1") + "/entries/1", body: Data("x".utf8))
            let delete = try await client.send(.delete, Path.object("1") + "/entries/1")
            #expect(delete.status == .noContent)
            #expect(delete.version == "2")
            // Absent key: still 204, no version bump.
            let again = try await client.send(.delete, Path.object("1") + "/entries/1")
            #expect(again.status == .noContent)
            #expect(again.version == "2")
            try expectError(try await client.send(.get, Path.object("1") + "/entries/1"), 404, "NO_ENTRY")
        }
    }

    @Test func batchSetJSONAndProtobuf() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let uri = Path.stringObject("cart") + "/batch-set"
            let first = try await client.send(.post, uri, json: #"{"values":{"a":{"data":"YQ=="},"b":{"data":"Yg=="}},"values_num":{"1":{"data":"MQ=="}}}"#)
            #expect(first.status == .noContent)
            #expect(first.version == "1")

            var batch = Oprc_BatchSetValuesRequest()
            batch.deleteKeys = ["a"]
            batch.expectedObjectVersion = 1
            // Identity in the body is ignored: the path wins.
            batch.clsID = "other"
            batch.objectID = 77
            let second = try await client.send(.post, uri, proto: batch)
            #expect(second.status == .noContent)
            #expect(second.version == "2")

            let stale = try await client.send(.post, uri, json: #"{"values":{"c":{"data":"Yw=="}},"expected_object_version":1}"#)
            let message = try expectError(stale, 409, "VERSION_MISMATCH")
            #expect(message == "version mismatch: expected 1, current 2")
        }
        let request = try #require(await harness.store.lastRequest(Oprc_BatchSetValuesRequest.self))
        #expect(request.clsID == "users")
        #expect(request.objectID == 0)
        #expect(request.objectIDStr == "cart")
        let stored = try #require(await harness.store.objects[FakeObjectStore.Key(cls: "users", partition: 0, id: .string("cart"))])
        #expect(Set(stored.entriesStr.keys) == ["b"])
        #expect(Set(stored.entries.keys) == [1])
    }
}
