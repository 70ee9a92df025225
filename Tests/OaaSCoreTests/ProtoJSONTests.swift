import Foundation
import OaaSProto
import SwiftProtobuf
import Testing
@testable import OaaSCore

/// Both documents parsed and re-serialized with sorted keys: equal iff they are the same JSON value
/// (0 and false stay distinct, integers keep every digit).
private func canonical(_ data: Data) throws -> String {
    let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    let text = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: text, as: UTF8.self)
}

private func expectJSON(_ data: Data, equals expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try canonical(data) == canonical(Data(expected.utf8)), sourceLocation: sourceLocation)
}

private func text(_ data: Data) -> String {
    String(decoding: data, as: UTF8.self)
}

/// The error a decode throws, or nil if it succeeds.
private func decodeError<M: SwiftProtobuf.Message>(_ type: M.Type, _ json: String) -> OaaSError? {
    do {
        _ = try ProtoJSON.decode(type, from: Data(json.utf8))
        return nil
    } catch {
        return error
    }
}

private func sampleObject() -> Oprc_ObjData {
    var object = Oprc_ObjData()
    object.metadata.clsID = "users"
    object.metadata.partitionID = 0
    object.metadata.objectIDStr = "user-42"
    var value = Oprc_ValData()
    value.data = Data("alice".utf8)
    value.type = .byte
    object.entriesStr["name"] = value
    return object
}

@Suite struct ProtoJSONOutputTests {
    @Test func specExampleObjData() throws {
        let data = try ProtoJSON.encode(sampleObject())
        // The spec 8.5 example, plus "object_id":0: an implicit u64 is written even when zero.
        let expected = #"{"metadata":{"cls_id":"users","partition_id":0,"object_id":0,"object_id_str":"user-42"},"entries_str":{"name":{"data":"YWxpY2U=","type":0}}}"#
        try expectJSON(data, equals: expected)
        // Members come in field-number order, so the bytes are stable too.
        #expect(text(data) == expected)
    }

    @Test func specExampleDecodes() throws {
        let example = #"{"metadata":{"cls_id":"users","partition_id":0,"object_id_str":"user-42"},"entries_str":{"name":{"data":"YWxpY2U=","type":0}}}"#
        let decoded = try ProtoJSON.decode(Oprc_ObjData.self, from: Data(example.utf8))
        #expect(decoded == sampleObject())
    }

    @Test func numericEntryKeysAreDecimalStrings() throws {
        var object = Oprc_ObjData()
        var value = Oprc_ValData()
        value.data = Data([0xFB, 0xFF])
        value.type = .crdtMap
        object.entries[7] = value
        object.entries[4_294_967_295] = Oprc_ValData()
        let data = try ProtoJSON.encode(object)
        try expectJSON(data, equals: #"{"entries":{"7":{"data":"+/8=","type":1},"4294967295":{"data":"","type":0}}}"#)
        #expect(try ProtoJSON.decode(Oprc_ObjData.self, from: data) == object)
    }

    @Test func u64MaxIsAnExactNumber() throws {
        var meta = Oprc_ObjMeta()
        meta.clsID = "c"
        meta.objectID = UInt64.max
        let data = try ProtoJSON.encode(meta)
        #expect(text(data) == #"{"cls_id":"c","partition_id":0,"object_id":18446744073709551615}"#)

        let object = try ProtoJSON.jsonObject(meta)
        #expect((object["object_id"] as? NSNumber)?.uint64Value == UInt64.max)
        // Embedding the object and writing it with JSONSerialization keeps every digit.
        let embedded = try JSONSerialization.data(withJSONObject: ["meta": object], options: [.sortedKeys])
        #expect(text(embedded).contains("18446744073709551615"))

        #expect(try ProtoJSON.decode(Oprc_ObjMeta.self, from: data) == meta)
        let fromString = try ProtoJSON.decode(Oprc_ObjMeta.self, from: Data(#"{"object_id":"18446744073709551615"}"#.utf8))
        #expect(fromString.objectID == UInt64.max)
        let parsed = try JSONSerialization.jsonObject(with: data)
        #expect(try ProtoJSON.decode(Oprc_ObjMeta.self, fromJSONObject: parsed) == meta)
        #expect(try ProtoJSON.decode(Oprc_ObjMeta.self, fromJSONObject: object) == meta)
    }

    @Test func implicitScalarsAreWrittenWhenZero() throws {
        try expectJSON(try ProtoJSON.encode(Oprc_CapabilitiesResponse()), equals: #"""
            {"string_ids":false,"string_entry_keys":false,"granular_entry_storage":false,"event_pipeline_v2":false}
            """#)
        try expectJSON(try ProtoJSON.encode(Oprc_ValData()), equals: #"{"data":"","type":0}"#)
        // Only repeated fields: nothing to write.
        try expectJSON(try ProtoJSON.encode(Oprc_StatsResponse()), equals: "{}")

        var stats = Oprc_StatsResponse()
        var shard = Oprc_ShardStats()
        shard.collection = "users"
        shard.shardID = 3
        stats.shards = [shard, Oprc_ShardStats()]
        try expectJSON(try ProtoJSON.encode(stats), equals: #"""
            {"shards":[{"collection":"users","partition_id":0,"shard_id":3,"count":0},
                       {"collection":"","partition_id":0,"shard_id":0,"count":0}]}
            """#)
    }

    @Test func optionalFieldsFollowPresence() throws {
        // Unset optionals are omitted...
        try expectJSON(try ProtoJSON.encode(Oprc_ValueResponse()), equals: "{}")
        // ...and set ones are written even when zero.
        var response = Oprc_ValueResponse()
        response.objectVersion = 0
        response.deleted = false
        response.key = ""
        try expectJSON(try ProtoJSON.encode(response), equals: #"{"object_version":0,"key":"","deleted":false}"#)

        var target = Oprc_TriggerTarget()
        target.clsID = "c"
        target.fnID = "f"
        try expectJSON(try ProtoJSON.encode(target), equals: #"{"cls_id":"c","partition_id":0,"fn_id":"f"}"#)
        target.objectID = 0
        target.reqOptions = ["a": "b"]
        try expectJSON(try ProtoJSON.encode(target), equals: #"{"cls_id":"c","partition_id":0,"object_id":0,"fn_id":"f","req_options":{"a":"b"}}"#)
    }

    @Test func triggerPayloadNestedDefaults() throws {
        var payload = Oprc_TriggerPayload()
        payload.eventInfo.sourceClsID = "users"
        payload.eventInfo.eventType = .dataUpdate
        payload.eventInfo.keyStr = "name"
        payload.eventInfo.context = ["object_version": "3"]
        payload.originalPayload = Data("hi".utf8)
        try expectJSON(try ProtoJSON.encode(payload), equals: #"""
            {"event_info":{"source_cls_id":"users","source_partition_id":0,"source_object_id":0,"event_type":4,
                           "timestamp":0,"context":{"object_version":"3"},"key_str":"name"},
             "original_payload":"aGk="}
            """#)

        var delete = Oprc_TriggerPayload()
        delete.eventInfo.eventType = .dataDelete
        delete.eventInfo.key = 0
        try expectJSON(try ProtoJSON.encode(delete), equals: #"""
            {"event_info":{"source_cls_id":"","source_partition_id":0,"source_object_id":0,"event_type":5,"key":0,"timestamp":0}}
            """#)
    }

    @Test func objectEventTriggers() throws {
        var object = Oprc_ObjData()
        var target = Oprc_TriggerTarget()
        target.clsID = "audit"
        target.fnID = "log"
        var dataTrigger = Oprc_DataTrigger()
        dataTrigger.onUpdate = [target]
        object.event.dataTrigger[5] = dataTrigger
        object.event.dataTriggerStr["name"] = dataTrigger
        try expectJSON(try ProtoJSON.encode(object), equals: #"""
            {"event":{"data_trigger":{"5":{"on_update":[{"cls_id":"audit","partition_id":0,"fn_id":"log"}]}},
                      "data_trigger_str":{"name":{"on_update":[{"cls_id":"audit","partition_id":0,"fn_id":"log"}]}}}}
            """#)
    }

    @Test func batchSetValuesRequest() throws {
        var request = Oprc_BatchSetValuesRequest()
        request.clsID = "users"
        request.objectIDStr = "u1"
        request.values["name"] = Oprc_ValData()
        request.valuesNum[12] = Oprc_ValData()
        request.deleteKeys = ["old"]
        request.deleteKeysNum = [1, 2]
        request.expectedObjectVersion = 9
        let data = try ProtoJSON.encode(request)
        try expectJSON(data, equals: #"""
            {"cls_id":"users","partition_id":0,"object_id":0,"object_id_str":"u1",
             "values":{"name":{"data":"","type":0}},"delete_keys":["old"],"expected_object_version":9,
             "values_num":{"12":{"data":"","type":0}},"delete_keys_num":[1,2]}
            """#)
        #expect(try ProtoJSON.decode(Oprc_BatchSetValuesRequest.self, from: data) == request)
    }

    @Test func jsonObjectTypes() throws {
        var capabilities = Oprc_CapabilitiesResponse()
        capabilities.stringIds = true
        let object = try ProtoJSON.jsonObject(capabilities)
        #expect(object["string_ids"] as? Bool == true)
        #expect(object["granular_entry_storage"] as? Bool == false)
        #expect(object.count == 4)

        var stats = Oprc_StatsResponse()
        var shard = Oprc_ShardStats()
        shard.count = 41
        stats.shards = [shard]
        let statsObject = try ProtoJSON.jsonObject(stats)
        let shards = statsObject["shards"] as? [Any]
        let first = shards?.first as? [String: Any]
        #expect((first?["count"] as? NSNumber)?.int64Value == 41)
        #expect(first?["collection"] as? String == "")
    }
}

@Suite struct ProtoJSONInputTests {
    @Test func enumNamesAndNumbers() throws {
        let byName = try ProtoJSON.decode(Oprc_ValData.self, from: Data(#"{"data":"","type":"VAL_TYPE_CRDT_MAP"}"#.utf8))
        #expect(byName.type == .crdtMap)
        let byNumber = try ProtoJSON.decode(Oprc_ValData.self, from: Data(#"{"type":1}"#.utf8))
        #expect(byNumber.type == .crdtMap)
        let request = try ProtoJSON.decode(Oprc_ListValuesRequest.self, from: Data(#"{"key_kind":"ENTRY_KEY_KIND_STRING"}"#.utf8))
        #expect(request.keyKind == .string)
    }

    @Test func camelCaseNames() throws {
        let json = #"{"metadata":{"clsId":"users","partitionId":3,"objectIdStr":"u"},"entriesStr":{"k":{"data":"eA=="}}}"#
        let object = try ProtoJSON.decode(Oprc_ObjData.self, from: Data(json.utf8))
        #expect(object.metadata.clsID == "users")
        #expect(object.metadata.partitionID == 3)
        #expect(object.metadata.objectIDStr == "u")
        #expect(object.entriesStr["k"]?.data == Data("x".utf8))
    }

    @Test func base64Variants() throws {
        for encoded in ["+/8=", "+/8", "-_8=", "-_8"] {
            let value = try ProtoJSON.decode(Oprc_ValData.self, from: Data(#"{"data":"\#(encoded)"}"#.utf8))
            #expect(value.data == Data([0xFB, 0xFF]), "\(encoded)")
        }
        let alice = try ProtoJSON.decode(Oprc_ValData.self, from: Data(#"{"data":"YWxpY2U"}"#.utf8))
        #expect(alice.data == Data("alice".utf8))
    }

    @Test func missingListsAndMapsAreEmpty() throws {
        let request = try ProtoJSON.decode(Oprc_BatchSetValuesRequest.self, from: Data(#"{"cls_id":"c","values":null}"#.utf8))
        #expect(request.values.isEmpty && request.deleteKeys.isEmpty && request.valuesNum.isEmpty)
        #expect(!request.hasExpectedObjectVersion)
        #expect(try ProtoJSON.decode(Oprc_ObjData.self, from: Data("{}".utf8)) == Oprc_ObjData())
    }

    @Test func unknownFieldIsNamed() {
        let top = decodeError(Oprc_ObjData.self, #"{"metadata":{},"foo":1}"#)
        #expect(top == OaaSError(.invalidArgument, "unknown field 'foo'"))
        let nested = decodeError(Oprc_ObjData.self, #"{"metadata":{"cls_id":"c","bogus":true}}"#)
        #expect(nested == OaaSError(.invalidArgument, "unknown field 'metadata.bogus'"))
        let inMap = decodeError(Oprc_ObjData.self, #"{"entries_str":{"name":{"dta":"eA=="}}}"#)
        #expect(inMap == OaaSError(.invalidArgument, "unknown field 'entries_str.name.dta'"))
        let inList = decodeError(Oprc_CreateCollectionRequest.self, #"{"shard_assignments":[{},{"primery":1}]}"#)
        #expect(inList == OaaSError(.invalidArgument, "unknown field 'shard_assignments[1].primery'"))
    }

    @Test func malformedJSON() {
        let truncated = decodeError(Oprc_ObjData.self, #"{"metadata":"#)
        #expect(truncated?.code == .invalidArgument)
        #expect(truncated?.message.hasPrefix("malformed JSON at byte 12") == true)
        let garbage = decodeError(Oprc_ObjData.self, "{} x")
        #expect(garbage?.message == "malformed JSON at byte 3: unexpected data after the JSON value")
        #expect(decodeError(Oprc_ObjData.self, "")?.message == "malformed JSON at byte 0: unexpected end of input")
    }

    @Test func invalidValuesNameTheField() {
        #expect(decodeError(Oprc_ObjData.self, #"{"metadata":{"partition_id":"abc"}}"#)
            == OaaSError(.invalidArgument, #"invalid value for field 'metadata.partition_id': expected uint32, got "abc""#))
        #expect(decodeError(Oprc_ObjMeta.self, #"{"partition_id":4294967296}"#)
            == OaaSError(.invalidArgument, "invalid value for field 'partition_id': 4294967296 is out of range for uint32"))
        #expect(decodeError(Oprc_ObjMeta.self, #"{"object_id":18446744073709551616}"#)
            == OaaSError(.invalidArgument, "invalid value for field 'object_id': 18446744073709551616 is out of range for uint64"))
        #expect(decodeError(Oprc_ObjData.self, #"{"entries_str":{"k":{"data":"!!!"}}}"#)
            == OaaSError(.invalidArgument, #"invalid value for field 'entries_str.k.data': "!!!" is not valid base64"#))
        #expect(decodeError(Oprc_ObjData.self, #"{"entries":{"x":{}}}"#)
            == OaaSError(.invalidArgument, "invalid value for field 'entries.x': map key must be a uint32"))
        #expect(decodeError(Oprc_ValData.self, #"{"type":"VAL_TYPE_NOPE"}"#)
            == OaaSError(.invalidArgument, #"invalid value for field 'type': "VAL_TYPE_NOPE" is not a value of enum Oprc_ValType"#))
        #expect(decodeError(Oprc_ObjData.self, #"{"metadata":[]}"#)
            == OaaSError(.invalidArgument, "invalid value for field 'metadata': expected a JSON object (oprc.ObjMeta), got an array"))
        #expect(decodeError(Oprc_BatchSetValuesRequest.self, #"{"delete_keys_num":[1,-2]}"#)?.message.hasPrefix(
            "invalid value for field 'delete_keys_num[1]':") == true)
        #expect(decodeError(Oprc_BatchSetValuesRequest.self, #"{"delete_keys":"k"}"#)
            == OaaSError(.invalidArgument, "invalid value for field 'delete_keys': expected a JSON array, got a string"))
        #expect(decodeError(Oprc_CreateCollectionRequest.self, #"{"options":{"a":1}}"#)
            == OaaSError(.invalidArgument, "invalid value for field 'options.a': expected string, got 1"))
        #expect(decodeError(Oprc_CreateCollectionRequest.self, #"{"options":{"a b":true}}"#)?.message
            == #"invalid value for field 'options["a b"]': expected string, got true"#)
        #expect(decodeError(Oprc_ObjData.self, "[]")
            == OaaSError(.invalidArgument, "expected a JSON object (oprc.ObjData), got an array"))
    }

    @Test func createCollectionRequestWithOptionsAndInvocations() throws {
        let json = #"""
            {"name":"example.record","partitionCount":2,"replica_count":1,"shard_type":"mst",
             "shard_assignments":[{"primary":"1","replica":[1],"shard_ids":[1]},{"replica":[1],"shardIds":[18446744073709551615]}],
             "options":{"invoke_only_primary":"true","mst_sync_interval":"1000"},
             "invocations":{"fnRoutes":{"echo":{"url":"http://fn:8080","stateless":true,"active_group":[1,2]},
                                        "run":{"url":"wasm://run","wasm_module_url":"file:///m.wasm","wasm_fuel":"5"}},
                            "disabled_fn":["old"]}}
            """#
        let request = try ProtoJSON.decode(Oprc_CreateCollectionRequest.self, from: Data(json.utf8))
        #expect(request.name == "example.record")
        #expect(request.partitionCount == 2 && request.replicaCount == 1 && request.shardType == "mst")
        #expect(request.shardAssignments.count == 2)
        #expect(request.shardAssignments[0].primary == 1 && request.shardAssignments[0].hasPrimary)
        #expect(!request.shardAssignments[1].hasPrimary)
        #expect(request.shardAssignments[1].shardIds == [UInt64.max])
        #expect(request.options == ["invoke_only_primary": "true", "mst_sync_interval": "1000"])
        #expect(request.invocations.fnRoutes["echo"]?.stateless == true)
        #expect(request.invocations.fnRoutes["echo"]?.activeGroup == [1, 2])
        #expect(request.invocations.fnRoutes["run"]?.wasmFuel == 5)
        #expect(request.invocations.disabledFn == ["old"])

        try expectJSON(try ProtoJSON.encode(request), equals: #"""
            {"name":"example.record","partition_count":2,"replica_count":1,
             "shard_assignments":[{"primary":1,"replica":[1],"shard_ids":[1]},{"replica":[1],"shard_ids":[18446744073709551615]}],
             "shard_type":"mst","options":{"invoke_only_primary":"true","mst_sync_interval":"1000"},
             "invocations":{"fn_routes":{"echo":{"url":"http://fn:8080","stateless":true,"standby":false,"active_group":[1,2]},
                                         "run":{"url":"wasm://run","stateless":false,"standby":false,
                                                "wasm_module_url":"file:///m.wasm","wasm_fuel":5}},
                            "disabled_fn":["old"]}}
            """#)

        // As ODGM_COLLECTION reads it: a JSONSerialization array, one element at a time.
        let array = try JSONSerialization.jsonObject(with: Data("[\(json)]".utf8)) as? [Any]
        let first = try #require(array?.first)
        #expect(try ProtoJSON.decode(Oprc_CreateCollectionRequest.self, fromJSONObject: first) == request)
    }

    @Test func minimalCollectionEncodesDefaults() throws {
        var request = Oprc_CreateCollectionRequest()
        request.name = "users"
        try expectJSON(try ProtoJSON.encode(request), equals: #"{"name":"users","partition_count":0,"replica_count":0,"shard_type":""}"#)
    }

    @Test func fromJSONObjectErrors() {
        func error(_ object: Any) -> OaaSError? {
            do {
                _ = try ProtoJSON.decode(Oprc_CreateCollectionRequest.self, fromJSONObject: object)
                return nil
            } catch {
                return error
            }
        }
        #expect(error(["name": "c", "shard_typ": "none"]) == OaaSError(.invalidArgument, "unknown field 'shard_typ'"))
        #expect(error(["name": 5]) == OaaSError(.invalidArgument, "invalid value for field 'name': expected string, got 5"))
        #expect(error(["name": "c", "partition_count": true])
            == OaaSError(.invalidArgument, "invalid value for field 'partition_count': expected int32, got true"))
        #expect(error(["name": Date()])?.message.hasPrefix("invalid value for field 'name': a value of type") == true)
        #expect(error("users") == OaaSError(.invalidArgument, #"expected a JSON object (oprc.CreateCollectionRequest), got a string"#))
    }

    @Test func fromSwiftValues() throws {
        let object: [String: Any] = [
            "name": "c",
            "partition_count": 3,
            "replica_count": 1.0,
            "shard_assignments": [["primary": UInt64.max, "replica": [UInt64(1)]]],
            "options": ["k": "v"],
        ]
        let request = try ProtoJSON.decode(Oprc_CreateCollectionRequest.self, fromJSONObject: object)
        #expect(request.partitionCount == 3 && request.replicaCount == 1)
        #expect(request.shardAssignments.first?.primary == UInt64.max)
        #expect(request.options == ["k": "v"])
    }

    @Test func roundTripKeepsEverything() throws {
        var object = Oprc_ObjData()
        object.metadata.clsID = "c\"quoted\"\n\u{1}é😀"
        object.metadata.objectID = 1 << 60
        object.entries[0] = Oprc_ValData()
        var value = Oprc_ValData()
        value.data = Data((0...255).map { UInt8($0) })
        value.type = .crdtMap
        object.entriesStr["ключ"] = value
        var trigger = Oprc_FuncTrigger()
        var target = Oprc_TriggerTarget()
        target.clsID = "t"
        target.fnID = "f"
        target.objectIDStr = "x"
        trigger.onError = [target]
        object.event.funcTrigger["fn"] = trigger
        let data = try ProtoJSON.encode(object)
        #expect(try ProtoJSON.decode(Oprc_ObjData.self, from: data) == object)
        #expect(try ProtoJSON.decode(Oprc_ObjData.self, fromJSONObject: ProtoJSON.jsonObject(object)) == object)
    }
}

@Suite struct ProtoJSONInternalsTests {
    @Test func schemaOfObjMeta() {
        let schema = MessageSchema.of(Oprc_ObjMeta.self)
        #expect(schema.fields.map(\.number) == [1, 2, 3, 4])
        #expect(schema.fields.map(\.protoName) == ["cls_id", "partition_id", "object_id", "object_id_str"])
        #expect(schema.fields.map(\.jsonName) == ["clsId", "partitionId", "objectId", "objectIdStr"])
        #expect(schema.fields.map(\.typeName) == ["string", "uint32", "uint64", "string"])
        guard case .optionalScalar = schema.fields[3].shape else {
            Issue.record("object_id_str must have explicit presence")
            return
        }
    }

    @Test func nameMapNumbersAreReadable() {
        // Guards the Mirror read of SwiftProtobuf's name map (fields above the scanned range need it).
        #expect(MessageSchema.nameMapNumbers(Oprc_BatchSetValuesRequest.self).sorted() == Array(1...9))
    }

    @Test func parserKeepsNumberLiterals() throws {
        let node = try JSONNodeParser.parse(Data(#"{"a":18446744073709551615,"b":-1.5e3,"c":"\u00e9\ud83d\ude00"}"#.utf8))
        #expect(node == .object([
            .init(key: "a", value: .number("18446744073709551615")),
            .init(key: "b", value: .number("-1.5e3")),
            .init(key: "c", value: .string("é😀")),
        ]))
        for bad in ["01", "1.", "[1,]", #"{"a" 1}"#, #""\ud800""#, "tru", "\"a\u{1}\""] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONNodeParser.parse(Data(bad.utf8)) }
        }
    }
}
