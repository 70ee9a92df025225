import Foundation
import OaaSCore
import OaaSProto
import Testing
import Yams
@testable import OaaSCLI

func byteValue(_ text: String) -> Oprc_ValData {
    EntryOptions.byteValue(text)
}

/// users/0/user-42 at version 3 with numeric keys 2 and 1 and string keys name, role.
func sampleObject() -> Oprc_ObjectResponse {
    var response = Oprc_ObjectResponse()
    response.obj.metadata.clsID = "users"
    response.obj.metadata.partitionID = 0
    response.obj.metadata.objectIDStr = "user-42"
    response.obj.entries[2] = byteValue("two")
    response.obj.entries[1] = byteValue("one")
    response.obj.entriesStr["role"] = byteValue("admin")
    response.obj.entriesStr["name"] = byteValue("alice")
    response.objectVersion = 3
    return response
}

func sampleList() -> [Oprc_ObjectMetaEnvelope] {
    var numeric = Oprc_ObjectMetaEnvelope()
    numeric.objectID = 42
    numeric.version = 1
    numeric.entryCount = 2
    var string = Oprc_ObjectMetaEnvelope()
    string.objectIDStr = "user-42"
    string.version = 7
    string.entryCount = 3
    string.nextCursor = Data([0xFB, 0xFF, 0x01])
    return [numeric, string]
}

func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

func json(_ data: Data) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// YAML output must parse back to the same tree as the JSON output.
func expectYAMLMatchesJSON(yaml: Data, json jsonData: Data, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let fromYAML = try #require(try Yams.load(yaml: text(yaml)) as? [String: Any], sourceLocation: sourceLocation)
    let fromJSON = try json(jsonData)
    // Compare through canonical JSON so number/bool boxing differences do not matter.
    let a = try JSONSerialization.data(withJSONObject: fromYAML, options: [.sortedKeys])
    let b = try JSONSerialization.data(withJSONObject: fromJSON, options: [.sortedKeys])
    #expect(text(a) == text(b), sourceLocation: sourceLocation)
}

@Suite("Output formatting")
struct RenderTests {
    @Test("object table: meta line, numeric keys first, then string keys")
    func objectTable() throws {
        let out = text(try Render.object(sampleObject(), format: .table))
        #expect(out == """
            meta: users/0/user-42 (version 3)
            1: one
            2: two
            name: alice
            role: admin

            """)
    }

    @Test("object json is ObjData per 8.5 plus version; yaml carries the same fields")
    func objectJSONAndYAML() throws {
        let jsonData = try Render.object(sampleObject(), format: .json)
        let object = try json(jsonData)
        #expect(object["version"] as? Int == 3)
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["cls_id"] as? String == "users")
        #expect(metadata["object_id_str"] as? String == "user-42")
        let entriesStr = try #require(object["entries_str"] as? [String: Any])
        let name = try #require(entriesStr["name"] as? [String: Any])
        #expect(name["data"] as? String == "YWxpY2U=")
        #expect(name["type"] as? Int == 0)
        let entries = try #require(object["entries"] as? [String: Any])
        #expect(entries["1"] != nil)

        let yaml = try Render.object(sampleObject(), format: .yaml)
        try expectYAMLMatchesJSON(yaml: yaml, json: jsonData)
    }

    @Test("a single value prints raw bytes without a newline; absent is NOT_FOUND")
    func value() throws {
        var response = Oprc_ValueResponse()
        response.value = byteValue("alice")
        response.objectVersion = 3
        response.key = "name"
        #expect(try Render.value(response, key: .string("name"), format: .table) == Data("alice".utf8))

        let jsonData = try Render.value(response, key: .string("name"), format: .json)
        let object = try json(jsonData)
        #expect(object["key"] as? String == "name")
        #expect(object["object_version"] as? Int == 3)
        try expectYAMLMatchesJSON(yaml: try Render.value(response, key: .string("name"), format: .yaml), json: jsonData)

        response.clearValue()
        for format in OutputFormat.allCases {
            do {
                _ = try Render.value(response, key: .string("name"), format: format)
                Issue.record("expected key not found")
            } catch let failure as CLIFailure {
                #expect(failure.code == "NOT_FOUND")
                #expect(failure.message.contains("key not found"))
            }
        }
    }

    @Test("write results: table line and {cls_id, partition_id, object_id, version}")
    func written() throws {
        let address = ObjectAddress(cls: "users", partition: 0, id: .numeric(42))
        #expect(text(try Render.written(address, version: 5, format: .table)) == "✓ set users/0/42 (version 5)\n")
        let jsonData = try Render.written(address, version: 5, format: .json)
        let object = try json(jsonData)
        #expect(object["object_id"] as? String == "42")
        #expect(object["cls_id"] as? String == "users")
        #expect(object["partition_id"] as? Int == 0)
        #expect(object["version"] as? Int == 5)
        try expectYAMLMatchesJSON(yaml: try Render.written(address, version: 5, format: .yaml), json: jsonData)
    }

    @Test("object list: lines, count, next cursor; json {objects, count, next_cursor}")
    func objectList() throws {
        let items = sampleList()
        let cursor = items[1].nextCursor
        let table = text(try Render.objectList(items, nextCursor: cursor, format: .table))
        #expect(table == """
            42  v1  entries=2
            user-42  v7  entries=3
            --- 2 object(s) ---
            Next cursor: -_8B

            """)
        #expect(text(try Render.objectList([], nextCursor: nil, format: .table)) == "--- 0 object(s) ---\n")

        let jsonData = try Render.objectList(items, nextCursor: cursor, format: .json)
        let object = try json(jsonData)
        #expect(object["count"] as? Int == 2)
        #expect(object["next_cursor"] as? String == "-_8B")
        let objects = try #require(object["objects"] as? [[String: Any]])
        #expect(objects[0]["object_id"] as? String == "42")
        #expect(objects[0]["id_kind"] as? String == "numeric")
        #expect(objects[1]["id_kind"] as? String == "string")
        #expect(objects[1]["entry_count"] as? Int == 3)
        try expectYAMLMatchesJSON(yaml: try Render.objectList(items, nextCursor: cursor, format: .yaml), json: jsonData)

        let empty = try json(try Render.objectList([], nextCursor: nil, format: .json))
        #expect(empty["next_cursor"] is NSNull)
        #expect((empty["objects"] as? [Any])?.isEmpty == true)
        #expect(Cursor.decode("-_8B") == cursor)
        #expect(Cursor.decode("+/8B") == cursor)
    }

    @Test("liststr: keys, k=v, and {entries, version}")
    func entries() throws {
        var numeric = Oprc_ValueEnvelope()
        numeric.key = "1"
        numeric.numericKey = 1
        numeric.value = byteValue("one")
        var string = Oprc_ValueEnvelope()
        string.key = "name"
        string.value = byteValue("alice")
        let envelopes = [numeric, string]
        #expect(text(try Render.entries(envelopes, version: 4, withValues: false, format: .table)) == "1\nname\n")
        #expect(text(try Render.entries(envelopes, version: 4, withValues: true, format: .table)) == "1=one\nname=alice\n")
        let jsonData = try Render.entries(envelopes, version: 4, withValues: true, format: .json)
        let object = try json(jsonData)
        #expect(object["version"] as? Int == 4)
        let list = try #require(object["entries"] as? [[String: Any]])
        #expect(list[0]["key_kind"] as? String == "numeric")
        #expect(list[1]["key_kind"] as? String == "string")
        #expect((list[1]["value"] as? [String: Any])?["data"] as? String == "YWxpY2U=")
        let keysOnly = try json(try Render.entries(envelopes, version: 4, withValues: false, format: .json))
        #expect((keysOnly["entries"] as? [[String: Any]])?[0]["value"] == nil)
        try expectYAMLMatchesJSON(yaml: try Render.entries(envelopes, version: 4, withValues: true, format: .yaml), json: jsonData)
    }

    @Test("capabilities and stats")
    func capabilitiesAndStats() throws {
        var caps = Oprc_CapabilitiesResponse()
        caps.stringIds = true
        caps.stringEntryKeys = true
        caps.granularEntryStorage = true
        #expect(text(try Render.capabilities(caps, format: .table)) == """
            Capabilities:
              string_ids: true
              string_entry_keys: true
              granular_entry_storage: true
              event_pipeline_v2: false

            """)
        let capsJSON = try json(try Render.capabilities(caps, format: .json))
        #expect(Set(capsJSON.keys) == ["string_ids", "string_entry_keys", "granular_entry_storage", "event_pipeline_v2"])
        #expect(capsJSON["event_pipeline_v2"] as? Bool == false)

        var stats = Oprc_StatsResponse()
        var shard = Oprc_ShardStats()
        shard.collection = "users"
        shard.partitionID = 3
        shard.shardID = 12
        shard.count = 1000
        stats.shards = [shard]
        #expect(text(try Render.stats(stats, format: .table)) == """
            collection  partition  shard  count
            users       3          12     1000

            """)
        let statsJSON = try Render.stats(stats, format: .json)
        try expectYAMLMatchesJSON(yaml: try Render.stats(stats, format: .yaml), json: statsJSON)
    }

    @Test("strings that look like other YAML types stay strings")
    func yamlQuoting() throws {
        let value = StructuredValue.object([
            ("a", .string("true")), ("b", .string("0")), ("c", .string("null")), ("d", .string("multi\nline")),
            ("e", .string("ünï")), ("f", .uint(UInt64.max)), ("g", .null), ("h", .array([])), ("i", .object([])),
        ])
        let parsed = try #require(try Yams.load(yaml: value.yamlText()) as? [String: Any])
        #expect(parsed["a"] as? String == "true")
        #expect(parsed["b"] as? String == "0")
        #expect(parsed["c"] as? String == "null")
        #expect(parsed["d"] as? String == "multi\nline")
        #expect(parsed["e"] as? String == "ünï")
        #expect((parsed["h"] as? [Any])?.isEmpty == true)

        let jsonText = value.jsonText()
        #expect(jsonText.contains("\"f\": 18446744073709551615"))
        #expect(jsonText.contains("\"d\": \"multi\\nline\""))
        let object = try json(Data(jsonText.utf8))
        #expect(object["g"] is NSNull)
    }

    @Test("error report format")
    func report() {
        let failure = CLIFailure(code: "ALREADY_EXISTS", message: "object 'user-42' already exists", hint: "use 'oaas object merge'")
        #expect(failure.report == "error: ALREADY_EXISTS: object 'user-42' already exists\nhint: use 'oaas object merge'\n")
    }
}
