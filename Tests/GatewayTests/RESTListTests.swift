import Foundation
import HTTPTypes
import HummingbirdTesting
import OaaSCore
import OaaSProto
import Testing

@testable import Gateway

@Suite("REST lists")
struct RESTListTests {
    @Test func listObjectsShape() async throws {
        try await GatewayHarness().run { client in
            _ = try await client.send(.put, Path.object("42"), proto: object(entries: [1: "a"], strings: ["b": "b", "c": "c"]))
            _ = try await client.send(.put, Path.stringObject("user-1"), json: "{}")
            let list = try await client.send(.get, Path.users + "/objects")
            #expect(list.status == .ok)
            #expect(list.contentType == "application/json")
            #expect(list.text == #"{"objects":[{"entry_count":3,"id_kind":"numeric","object_id":"42","version":1},{"entry_count":0,"id_kind":"string","object_id":"user-1","version":1}]}"#)
        }
    }

    @Test func listObjectsPagesWithCursors() async throws {
        try await GatewayHarness().run { client in
            for id in ["a", "b", "c", "d", "e", "f"] {
                _ = try await client.send(.put, Path.stringObject(id), json: "{}")
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = Path.users + "/objects?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let body = try await client.send(.get, uri).jsonObject()
                let objects = try #require(body["objects"] as? [[String: Any]])
                seen += objects.compactMap { $0["object_id"] as? String }
                cursor = body["next_cursor"] as? String
                if let cursor {
                    // base64url without padding.
                    #expect(!cursor.contains("=") && !cursor.contains("+") && !cursor.contains("/"))
                    #expect(Base64URL.decode(cursor) == Data("fake:\(seen.count)".utf8))
                }
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == ["a", "b", "c", "d", "e", "f"])
            #expect(pages == 2)
        }
    }

    @Test func listObjectsForwardsFilters() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            _ = try await client.send(.get, Path.users + "/objects?prefix=user%3A&kind=string&limit=7")
        }
        let request = try #require(await harness.store.lastRequest(Oprc_ListObjectsRequest.self))
        #expect(request.clsID == "users")
        #expect(request.objectIDPrefix == "user:")
        #expect(request.kind == .string)
        #expect(request.limit == 7)
        #expect(!request.hasCursor)
    }

    @Test(arguments: [("", UInt32(100)), ("?limit=0", 100), ("?limit=1000", 1000), ("?limit=5000", 1000), ("?limit=4294967295", 1000), ("?limit=1", 1)])
    func limitDefaultsAndClamps(_ query: String, _ expected: UInt32) async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let response = try await client.send(.get, Path.users + "/objects" + query)
            #expect(response.status == .ok)
        }
        #expect(await harness.store.lastRequest(Oprc_ListObjectsRequest.self)?.limit == expected)
    }

    @Test(arguments: [
        "limit=abc", "limit=-1", "limit=4294967296", "limit=", "limit=+5", "limit=1.5",
        "cursor=abc=", "cursor=a+b/", "cursor=abcde", "cursor=%21%21",
        "kind=foo", "kind=", "kind=ALL",
    ])
    func badListParameters(_ query: String) async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            try expectError(try await client.send(.get, Path.users + "/objects?" + query), 400, "INVALID_ARGUMENT")
            try expectError(try await client.send(.get, Path.object("1") + "/entries?" + query), 400, "INVALID_ARGUMENT")
        }
        #expect(await harness.store.callNames.isEmpty)
    }

    @Test func cursorTheStoreRejectsIs400() async throws {
        try await GatewayHarness().run { client in
            let message = try expectError(try await client.send(.get, Path.users + "/objects?cursor=" + Base64URL.encode(Data("other".utf8))), 400, "INVALID_ARGUMENT")
            #expect(message == "invalid cursor")
        }
    }

    @Test func listEntriesShape() async throws {
        try await GatewayHarness().run { client in
            _ = try await client.send(.put, Path.object("1"), proto: object(entries: [2: "two", 10: "ten"], strings: ["name": "alice"]))
            _ = try await client.send(.put, Path.object("1") + "/entries/status", headers: headers(("x-oprc-val-type", "crdt_map")), body: Data("ok".utf8))
            let list = try await client.send(.get, Path.object("1") + "/entries")
            #expect(list.status == .ok)
            #expect(list.contentType == "application/json")
            #expect(list.text == #"{"entries":[{"key":"2","key_kind":"numeric","value":{"data":"dHdv","type":0}},{"key":"10","key_kind":"numeric","value":{"data":"dGVu","type":0}},{"key":"name","key_kind":"string","value":{"data":"YWxpY2U=","type":0}},{"key":"status","key_kind":"string","value":{"data":"b2s=","type":1}}],"version":2}"#)

            let page = try await client.send(.get, Path.object("1") + "/entries?limit=2&kind=all").jsonObject()
            #expect((page["entries"] as? [Any])?.count == 2)
            let cursor = try #require(page["next_cursor"] as? String)
            let rest = try await client.send(.get, Path.object("1") + "/entries?limit=2&cursor=\(cursor)").jsonObject()
            let keys = (rest["entries"] as? [[String: Any]])?.compactMap { $0["key"] as? String }
            #expect(keys == ["name", "status"])
            #expect(rest["next_cursor"] == nil)
            #expect(rest["version"] as? Int == 2)
        }
    }

    @Test func listEntriesFilters() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            _ = try await client.send(.put, Path.stringObject("obj"), proto: object(entries: [1: "a"], strings: ["user:1": "x", "zzzzzz": "y", "user:10": "z"]))
            let prefixed = try await client.send(.get, Path.stringObject("obj") + "/entries?prefix=user:").jsonObject()
            let keys = (prefixed["entries"] as? [[String: Any]])?.compactMap { $0["key"] as? String }
            #expect(keys == ["user:1", "user:10"])
            let numeric = try await client.send(.get, Path.stringObject("obj") + "/entries?kind=numeric").jsonObject()
            #expect((numeric["entries"] as? [[String: Any]])?.compactMap { $0["key"] as? String } == ["1"])
        }
        let request = try #require(await harness.store.lastRequest(Oprc_ListValuesRequest.self))
        #expect(request.keyKind == .numeric)
        #expect(request.objectIDStr == "obj")
        #expect(!request.hasKeyPrefix)
    }

    @Test func emptyAndMissing() async throws {
        try await GatewayHarness().run { client in
            #expect(try await client.send(.get, Path.users + "/objects").text == #"{"objects":[]}"#)
            try expectError(try await client.send(.get, Path.object("1") + "/entries"), 404, "NO_OBJECT")
            try expectError(try await client.send(.get, "/api/class/ghost/0/objects"), 404, "NO_CLASS")
            _ = try await client.send(.put, Path.object("1"), json: "{}")
            #expect(try await client.send(.get, Path.object("1") + "/entries").text == #"{"entries":[],"version":1}"#)
        }
    }

    @Test func capabilitiesAndStats() async throws {
        try await GatewayHarness().run { client in
            let caps = try await client.send(.get, "/api/capabilities")
            #expect(caps.status == .ok)
            #expect(caps.contentType == "application/json")
            let body = try caps.jsonObject()
            #expect(body["string_ids"] as? Bool == true)
            #expect(body["string_entry_keys"] as? Bool == true)
            #expect(body["granular_entry_storage"] as? Bool == true)
            #expect(body["event_pipeline_v2"] as? Bool == false)

            _ = try await client.send(.put, "/api/class/items/1/objects/5", json: "{}")
            let stats = try await client.send(.get, "/api/stats")
            #expect(stats.status == .ok)
            #expect(stats.contentType == "application/json")
            let decoded = try ProtoJSON.decode(Oprc_StatsResponse.self, from: stats.data)
            #expect(decoded.shards.count == 8)
            #expect(decoded.shards.first { $0.collection == "items" && $0.partitionID == 1 }?.count == 1)
        }
    }
}
