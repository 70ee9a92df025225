import Foundation
import HTTPTypes
import HummingbirdTesting
import OaaSCore
import OaaSProto
import Testing

@testable import Gateway

@Suite("REST objects")
struct RESTObjectTests {
    @Test func putProtobufThenGetNegotiates() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let put = try await client.send(.put, Path.object("42"), proto: object(entries: [1: "one"], strings: ["name": "alice"]))
            #expect(put.status == .noContent)
            #expect(put.version == "1")
            #expect(put.body.readableBytes == 0)

            // No Accept → protobuf.
            let get = try await client.send(.get, Path.object("42"))
            #expect(get.status == .ok)
            #expect(get.contentType == "application/x-protobuf")
            #expect(get.version == "1")
            let decoded = try Oprc_ObjData(serializedBytes: Array(get.body.readableBytesView))
            #expect(decoded.entries[1]?.data == Data("one".utf8))
            #expect(decoded.entriesStr["name"]?.data == Data("alice".utf8))
            #expect(decoded.metadata.objectID == 42)
            #expect(decoded.metadata.clsID == "users")

            // Accept containing application/json → JSON (spec §8.5 output).
            let json = try await client.send(.get, Path.object("42"), headers: headers(("Accept", "text/html, application/json;q=0.9")))
            #expect(json.status == .ok)
            #expect(json.contentType == "application/json")
            #expect(json.version == "1")
            let body = try json.jsonObject()
            let entries = try #require(body["entries"] as? [String: Any])
            let one = try #require(entries["1"] as? [String: Any])
            #expect(one["data"] as? String == "b25l")
            #expect(one["type"] as? Int == 0)
            let metadata = try #require(body["metadata"] as? [String: Any])
            #expect(metadata["cls_id"] as? String == "users")
            #expect(try ProtoJSON.decode(Oprc_ObjData.self, from: json.data) == decoded)
        }
    }

    @Test func putJSONRoundTrips() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let put = try await client.send(
                .put, Path.stringObject("user-42"),
                json: #"{"entries_str":{"name":{"data":"YWxpY2U=","type":0}},"entries":{"7":{"data":"c2V2ZW4="}}}"#
            )
            #expect(put.status == .noContent)
            #expect(put.version == "1")
            let get = try await client.send(.get, Path.stringObject("user-42"), headers: headers(("Accept", "application/json")))
            #expect(get.status == .ok)
            let decoded = try ProtoJSON.decode(Oprc_ObjData.self, from: get.data)
            #expect(decoded.entriesStr["name"]?.data == Data("alice".utf8))
            #expect(decoded.entries[7]?.data == Data("seven".utf8))
            #expect(decoded.metadata.objectIDStr == "user-42")
        }
    }

    @Test(arguments: ["application/json; charset=utf-8", "Application/JSON"])
    func jsonContentTypeParametersAreIgnored(_ contentType: String) async throws {
        try await GatewayHarness().run { client in
            let put = try await client.send(.put, Path.object("5"), headers: headers(("Content-Type", contentType)), body: Data("{}".utf8))
            #expect(put.status == .noContent)
        }
    }

    @Test func octetStreamAndMissingContentTypeAreProtobuf() async throws {
        try await GatewayHarness().run { client in
            let bytes: [UInt8] = try object(strings: ["k": "v"]).serializedBytes()
            let octet = try await client.send(.put, Path.object("1"), headers: headers(("Content-Type", "application/octet-stream")), body: Data(bytes))
            #expect(octet.status == .noContent)
            let missing = try await client.send(.put, Path.object("2"), body: Data(bytes))
            #expect(missing.status == .noContent)
            let get = try await client.send(.get, Path.object("2"))
            #expect(try Oprc_ObjData(serializedBytes: Array(get.body.readableBytesView)).entriesStr["k"]?.data == Data("v".utf8))
        }
    }

    @Test func unsupportedMediaTypeIs415() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            let put = try await client.send(.put, Path.object("1"), headers: headers(("Content-Type", "text/plain")), body: Data("hi".utf8))
            let message = try expectError(put, 415, "UNSUPPORTED_MEDIA_TYPE")
            #expect(message.contains("text/plain"))
            let patch = try await client.send(.patch, Path.object("1"), headers: headers(("Content-Type", "application/xml")), body: Data())
            try expectError(patch, 415, "UNSUPPORTED_MEDIA_TYPE")
            let batch = try await client.send(.post, Path.object("1") + "/batch-set", headers: headers(("Content-Type", "text/csv")), body: Data())
            try expectError(batch, 415, "UNSUPPORTED_MEDIA_TYPE")
        }
        #expect(await harness.store.callNames.isEmpty)
    }

    @Test func badBodiesAre400() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            try expectError(try await client.send(.put, Path.object("1"), json: "{not json"), 400, "INVALID_ARGUMENT")
            let unknown = try expectError(try await client.send(.put, Path.object("1"), json: #"{"bogus_field":1}"#), 400, "INVALID_ARGUMENT")
            #expect(unknown.contains("bogus_field"))
            let protobuf = try await client.send(.put, Path.object("1"), headers: headers(("Content-Type", "application/x-protobuf")), body: Data([0x12, 0x05, 0x01]))
            let message = try expectError(protobuf, 400, "INVALID_ARGUMENT")
            #expect(message.contains("protobuf"))
        }
        #expect(await harness.store.callNames.isEmpty)
    }

    @Test func payloadLimitIs413() async throws {
        let harness = GatewayHarness(config: GatewayConfig(maxPayloadBytes: 16))
        try await harness.run { client in
            let tooBig = Data(repeating: 0x61, count: 17)
            try expectError(try await client.send(.put, Path.object("1"), headers: headers(("Content-Type", "application/json")), body: tooBig), 413, "PAYLOAD_TOO_LARGE")
            try expectError(try await client.send(.put, Path.object("1") + "/entries/name", body: tooBig), 413, "PAYLOAD_TOO_LARGE")
            try expectError(try await client.send(.post, Path.object("1") + "/batch-set", body: tooBig), 413, "PAYLOAD_TOO_LARGE")
            // Exactly at the limit is accepted.
            let atLimit = try await client.send(.put, Path.object("1") + "/entries/name", body: Data(repeating: 0x61, count: 16))
            #expect(atLimit.status == .noContent)
        }
        #expect(await harness.store.callNames == ["setValue"])
    }

    @Test func stringSetTwiceConflicts() async throws {
        try await GatewayHarness().run { client in
            #expect(try await client.send(.put, Path.stringObject("alpha-1"), json: "{}").status == .noContent)
            try expectError(try await client.send(.put, Path.stringObject("alpha-1"), json: "{}"), 409, "ALREADY_EXISTS")
            // Numeric Set is an upsert.
            #expect(try await client.send(.put, Path.object("9"), json: "{}").version == "1")
            #expect(try await client.send(.put, Path.object("9"), json: "{}").version == "2")
        }
    }

    @Test func numericAndStringNamespaces() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            #expect(try await client.send(.put, Path.object("42"), proto: object(strings: ["who": "numeric"])).status == .noContent)
            #expect(try await client.send(.put, Path.stringObject("42"), proto: object(strings: ["who": "string"])).status == .noContent)
            #expect(try await client.send(.put, Path.object("007"), proto: object(strings: ["who": "007"])).status == .noContent)

            let numeric = try await client.send(.get, Path.object("42") + "/entries/who")
            #expect(numeric.text == "numeric")
            let string = try await client.send(.get, Path.stringObject("42") + "/entries/who")
            #expect(string.text == "string")
            // `007` is not canonical decimal: a string id, reachable through both forms.
            #expect(try await client.send(.get, Path.object("007") + "/entries/who").text == "007")
            #expect(try await client.send(.get, Path.stringObject("007") + "/entries/who").text == "007")
            // Numeric 7 does not exist.
            try expectError(try await client.send(.get, Path.object("7")), 404, "NO_OBJECT")
        }
        let keys = Set(await harness.store.objects.keys.map(\.id))
        #expect(keys == [.numeric(42), .string("42"), .string("007")])
    }

    @Test func largeDecimalIsAStringId() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            for id in ["18446744073709551615", "18446744073709551616", "0"] {
                let response = try await client.send(.put, Path.object(id), json: "{}")
                #expect(response.status == .noContent)
            }
        }
        let keys = Set(await harness.store.objects.keys.map(\.id))
        #expect(keys == [.numeric(UInt64.max), .string("18446744073709551616"), .string("0")])
    }

    @Test func idsAreNormalizedAndValidated() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            #expect(try await client.send(.put, Path.stringObject("User-ABC.01"), json: "{}").status == .noContent)
            let get = try await client.send(.get, Path.object("user-abc.01"), headers: headers(("Accept", "application/json")))
            #expect(get.status == .ok)
            let metadata = try #require(try get.jsonObject()["metadata"] as? [String: Any])
            #expect(metadata["object_id_str"] as? String == "user-abc.01")

            let bad = try expectError(try await client.send(.get, Path.object("Bad$Id")), 400, "INVALID_OBJECT_ID")
            #expect(bad.hasPrefix("object_id_str contains invalid character '$' at offset 3"))
            try expectError(try await client.send(.get, Path.object("a_b")), 400, "INVALID_OBJECT_ID")
            let long = try expectError(try await client.send(.get, Path.object(String(repeating: "a", count: 161))), 400, "INVALID_OBJECT_ID")
            #expect(long == "object_id_str length 161 exceeds maximum 160")
            // Percent-decoding happens first: `%24` is `$`, `%20` a space.
            try expectError(try await client.send(.get, Path.object("bad%24")), 400, "INVALID_OBJECT_ID")
            try expectError(try await client.send(.get, Path.stringObject("a%20b")), 400, "INVALID_OBJECT_ID")
            try expectError(try await client.send(.get, Path.object("bad%zz")), 400, "INVALID_OBJECT_ID")
            // An encoded id that decodes to a valid one works.
            #expect(try await client.send(.get, Path.object("user%2Dabc.01")).status == .ok)
        }
        #expect(await harness.store.objects.keys.map(\.id) == [.string("user-abc.01")])
    }

    @Test func stringIdCountersRiseByExactlyOne() async throws {
        let harness = GatewayHarness()
        let metrics = harness.metrics
        try await harness.run { client in
            try expectError(try await client.send(.get, Path.object("Bad$Id")), 400, "INVALID_OBJECT_ID")
            #expect(metrics.count("gateway_string_id_attempt_total") == 1)
            #expect(metrics.count("gateway_string_id_rejected_total") == 1)

            try expectError(try await client.send(.get, Path.object("alpha-1")), 404, "NO_OBJECT")
            #expect(metrics.count("gateway_string_id_attempt_total") == 2)
            #expect(metrics.count("gateway_string_id_rejected_total") == 1)

            // Numeric ids are not string-id attempts.
            try expectError(try await client.send(.get, Path.object("42")), 404, "NO_OBJECT")
            #expect(metrics.count("gateway_string_id_attempt_total") == 2)
        }
    }

    @Test func mergeReturnsTheMergedObject() async throws {
        try await GatewayHarness().run { client in
            _ = try await client.send(.put, Path.object("3"), proto: object(entries: [1: "a"], strings: ["x": "old"]))
            let patch = try await client.send(.patch, Path.object("3"), headers: headers(("Accept", "application/json")), json: #"{"entries_str":{"x":{"data":"bmV3"},"y":{"data":"eQ=="}}}"#)
            #expect(patch.status == .ok)
            #expect(patch.contentType == "application/json")
            #expect(patch.version == "2")
            let merged = try ProtoJSON.decode(Oprc_ObjData.self, from: patch.data)
            #expect(merged.entries[1]?.data == Data("a".utf8))
            #expect(merged.entriesStr["x"]?.data == Data("new".utf8))
            #expect(merged.entriesStr["y"]?.data == Data("y".utf8))

            // Without Accept JSON the merged object comes back as protobuf; Merge also creates.
            let create = try await client.send(.patch, Path.stringObject("fresh"), proto: object(strings: ["k": "v"]))
            #expect(create.status == .ok)
            #expect(create.contentType == "application/x-protobuf")
            #expect(create.version == "1")
            #expect(try Oprc_ObjData(serializedBytes: Array(create.body.readableBytesView)).entriesStr["k"]?.data == Data("v".utf8))
        }
    }

    @Test func deleteThenNotFound() async throws {
        try await GatewayHarness().run { client in
            _ = try await client.send(.put, Path.object("8"), json: "{}")
            let delete = try await client.send(.delete, Path.object("8"))
            #expect(delete.status == .noContent)
            #expect(delete.version == "2")
            let get = try await client.send(.get, Path.object("8"))
            #expect(get.text == #"{"error":{"code":"NO_OBJECT","message":"object not found"}}"#)
            #expect(get.status == .notFound)
            try expectError(try await client.send(.delete, Path.object("8")), 404, "NO_OBJECT")
            // Re-Set continues from the tombstone.
            #expect(try await client.send(.put, Path.object("8"), json: "{}").version == "3")
        }
    }

    @Test func pathIdentityIsAuthoritative() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            _ = try await client.send(.put, "/api/class/items/3/objects/11", json: #"{"metadata":{"cls_id":"users","partition_id":1,"object_id":99}}"#)
        }
        let request = try #require(await harness.store.lastRequest(Oprc_SetObjectRequest.self))
        #expect(request.clsID == "items")
        #expect(request.partitionID == 3)
        #expect(request.objectID == 11)
        #expect(!request.hasObjectIDStr)
    }

    @Test func classAndPartitionErrors() async throws {
        try await GatewayHarness().run { client in
            try expectError(try await client.send(.get, "/api/class/users/abc/objects/1"), 400, "INVALID_ARGUMENT")
            try expectError(try await client.send(.get, "/api/class/users/-1/objects/1"), 400, "INVALID_ARGUMENT")
            try expectError(try await client.send(.get, "/api/class/users/4294967296/objects/1"), 400, "INVALID_ARGUMENT")
            // u32 but not int32: the int32 messages cannot carry it.
            try expectError(try await client.send(.put, "/api/class/users/4294967295/objects/1", json: "{}"), 400, "INVALID_ARGUMENT")
            try expectError(try await client.send(.get, "/api/class/nope/0/objects/1"), 404, "NO_CLASS")
            try expectError(try await client.send(.get, "/api/class/users/9/objects/1"), 404, "NO_PARTITION")
        }
    }

    @Test func deadlineAndTimeoutHeader() async throws {
        let store = FakeObjectStore()
        await store.setDelay(.seconds(5))
        let harness = GatewayHarness(config: GatewayConfig(requestTimeout: .seconds(30)), store: store)
        try await harness.run { client in
            let slow = try await client.send(.get, Path.object("1"), headers: headers(("x-oprc-timeout-ms", "50")))
            try expectError(slow, 504, "DEADLINE_EXCEEDED")
            try expectError(try await client.send(.get, Path.object("1"), headers: headers(("x-oprc-timeout-ms", "soon"))), 400, "INVALID_ARGUMENT")
            try expectError(try await client.send(.get, Path.object("1"), headers: headers(("x-oprc-timeout-ms", "0"))), 400, "INVALID_ARGUMENT")
        }
    }

    @Test func traceContextIsForwarded() async throws {
        let harness = GatewayHarness()
        try await harness.run { client in
            _ = try await client.send(.get, Path.object("1"), headers: headers(("traceparent", "00-abc-def-01"), ("tracestate", "k=v")))
        }
        let context = try #require(await harness.store.contexts.last)
        #expect(context.traceparent == "00-abc-def-01")
        #expect(context.tracestate == "k=v")
        #expect(context.deadline != nil)
    }
}
