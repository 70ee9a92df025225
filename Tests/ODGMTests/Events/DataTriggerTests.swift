import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing

/// Data triggers (spec §6.1–6.2): numeric and string keys fire on_create, on_update and on_delete
/// on every write path, with the payload and options of §6.2.
@Suite struct DataTriggerTests {
    /// Object 5 watching numeric key 1 and string key "s", created with both keys.
    private func watchedObject(_ service: ObjectService) async throws {
        _ = try await service.set(objectRequest(5, num: [1: "a"], strs: ["s": "b"], event: triggers(numeric: [1], strings: ["s"])), context: ctx)
    }

    @Test func everyPathFiresTheMatchingTriggers() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            try await watchedObject(service)                                                     // create-1, create-s
            _ = try await service.set(objectRequest(5, num: [1: "a2"]), context: ctx)            // delete-s (replace), update-1
            _ = try await service.merge(objectRequest(5, strs: ["s": "c"]), context: ctx)       // create-s
            _ = try await service.merge(objectRequest(5, num: [1: "a3"]), context: ctx)         // update-1
            _ = try await service.setValue(setKey(5, keyStr: "s", value: "d"), context: ctx)    // update-s
            _ = try await service.deleteValue(keyRequest(5, key: 1), context: ctx)              // delete-1
            _ = try await service.setValue(setKey(5, key: 1, value: "e"), context: ctx)         // create-1
            _ = try await service.batchSetValues(batchRequest(5, set: ["s": "f"], deleteNum: [1]), context: ctx) // delete-1, update-s
            _ = try await service.batchSetValues(batchRequest(5, setNum: [1: "g"], delete: ["s"]), context: ctx) // delete-s, create-1
            _ = try await service.set(objectRequest(5, num: [1: "h"], strs: ["s": "i"]), context: ctx)   // update-1, create-s
            _ = try await service.delete(single(5), context: ctx)                               // delete-1, delete-s
            _ = try await service.setValue(setKey(5, key: 2, value: "unwatched"), context: ctx) // nothing (config gone with the tombstone)
            let calls = try await drained(dispatcher, invoker, calls: 17)
            #expect(calls.map(\.fn) == [
                "create-1", "create-s", "delete-s", "update-1", "create-s", "update-1", "update-s", "delete-1", "create-1",
                "delete-1", "update-s", "delete-s", "create-1", "update-1", "create-s", "delete-1", "delete-s",
            ])
            // In version order, one object at a time.
            let versions = try calls.map { try $0.jsonPayload().eventInfo.context["object_version"] ?? "" }
            #expect(versions == ["1", "1", "2", "2", "3", "4", "5", "6", "7", "8", "8", "9", "9", "10", "10", "11", "11"])
        }
        #expect(h.deliveries("ok") == 17)
    }

    @Test func jsonPayloadAndOptionsFollowTheSpec() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        let invoker = RecordingInvoker()
        var event = Oprc_ObjectEvent()
        var trigger = Oprc_DataTrigger()
        trigger.onCreate = [target("to-object", cls: "other", partition: 1, objectIDStr: "Target-9", options: ["mode": "x"])]
        trigger.onUpdate = [target("to-fn", cls: "other", partition: 1)]
        event.dataTriggerStr["name"] = trigger
        var stringKeyed = Oprc_DataTrigger()
        stringKeyed.onCreate = [target("numeric")]
        event.dataTrigger[3] = stringKeyed
        let trace = CallContext(traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", invocationID: "client-call")
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(str: "src-1", num: [3: "three"], strs: ["name": "alice"], event: event), context: trace)
            _ = try await service.setValue(setKey(str: "src-1", keyStr: "name", value: "bob"), context: ctx)
            let calls = try await drained(dispatcher, invoker, calls: 3)
            #expect(calls.map(\.fn) == ["numeric", "to-object", "to-fn"])

            let numeric = try calls[0].jsonPayload()
            #expect(numeric.eventInfo.eventType == .dataCreate && numeric.eventInfo.key == 3 && !numeric.eventInfo.hasKeyStr)
            #expect(String(decoding: numeric.originalPayload, as: UTF8.self) == "three")

            let created = calls[1]
            #expect(created.cls == "other" && created.partition == 1 && created.objectID == .string("target-9"))
            #expect(created.options["mode"] == "x")
            #expect(created.options["content-type"] == "application/json")
            #expect(created.options[MetadataKeys.triggerDepth] == "1" && created.context.triggerDepth == 1)
            #expect(created.options[MetadataKeys.traceparent] == trace.traceparent && created.context.traceparent == trace.traceparent)
            #expect(created.invocationID?.isEmpty == false && created.options[MetadataKeys.invocationID] == created.invocationID)
            #expect(created.context.deadline != nil)
            let json = try #require(try JSONSerialization.jsonObject(with: created.payload) as? [String: Any])
            let info = try #require(json["event_info"] as? [String: Any])
            #expect(info["source_object_id_str"] as? String == "src-1")
            #expect(info["source_cls_id"] as? String == "cls")
            #expect(info["event_type"] as? Int == 3)
            #expect(info["key_str"] as? String == "name")
            let context = try #require(info["context"] as? [String: String])
            #expect(context["object_version"] == "1" && context["key_str"] == "name")
            #expect(context["trigger_depth"] == "1" && context["invocation_id"] == "client-call")
            #expect(json["original_payload"] as? String == Data("alice".utf8).base64EncodedString())

            let updated = calls[2]
            #expect(updated.objectID == nil && updated.fn == "to-fn")
            let payload = try updated.jsonPayload()
            #expect(payload.eventInfo.eventType == .dataUpdate && payload.eventInfo.context["object_version"] == "2")
            #expect(String(decoding: payload.originalPayload, as: UTF8.self) == "bob")
            #expect(Set(calls.compactMap(\.invocationID)).count == 3)
        }
    }

    @Test func protobufFormatDecodesAsTriggerPayload() async throws {
        let h = EventHarness(options: ["trigger_payload_format": "protobuf"])
        let (node, service) = try h.open()
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(8, num: [1: "x"], event: triggers(numeric: [1])), context: ctx)
            _ = try await service.deleteValue(keyRequest(8, key: 1), context: ctx)
            let calls = try await drained(dispatcher, invoker, calls: 2)
            #expect(calls.allSatisfy { $0.options["content-type"] == "application/x-protobuf" })
            let created = try Oprc_TriggerPayload(serializedBytes: calls[0].payload)
            #expect(created.eventInfo.eventType == .dataCreate && created.eventInfo.sourceObjectID == 8 && created.eventInfo.key == 1)
            #expect(created.eventInfo.timestamp > 0 && created.originalPayload == Data("x".utf8))
            let deleted = try Oprc_TriggerPayload(serializedBytes: calls[1].payload)
            #expect(deleted.eventInfo.eventType == .dataDelete && !deleted.hasOriginalPayload)
        }
    }

    @Test func numericAndStringKeysAreSeparateTriggers() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(1, num: [1: "n"], strs: ["1": "s", "Name": "x"],
                                                    event: triggers(numeric: [1], strings: ["1", "name"])), context: ctx)
            let calls = try await drained(dispatcher, invoker, calls: 2)
            // Numeric key 1 and string key "1" both fire; "Name" does not match "name".
            #expect(calls.map(\.fn).sorted() == ["create-1", "create-1"])
            let payloads = try calls.map { try $0.jsonPayload().eventInfo }
            #expect(payloads.contains { $0.hasKey && $0.key == 1 } && payloads.contains { $0.hasKeyStr && $0.keyStr == "1" })
        }
    }

    @Test func theConfigStoredBeforeTheMutationDecides() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            // Created with a config watching key 1: the new config applies.
            _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
            // Replaced with a config watching key 2 only: this mutation still sees the old one.
            _ = try await service.set(objectRequest(1, num: [1: "b", 2: "c"], event: triggers(numeric: [2])), context: ctx)
            // Now the new config applies.
            _ = try await service.merge(objectRequest(1, num: [1: "d", 2: "e"]), context: ctx)
            // An empty config clears it.
            _ = try await service.set(objectRequest(1, num: [2: "f"], event: Oprc_ObjectEvent()), context: ctx)
            _ = try await service.setValue(setKey(1, key: 2, value: "g"), context: ctx)
            let calls = try await drained(dispatcher, invoker, calls: 4)
            #expect(calls.map(\.fn) == ["create-1", "update-1", "update-2", "update-2"])
        }
    }

    @Test func noMatchingTriggerWritesNothing() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [9])), context: ctx)
        _ = try await service.setValue(setKey(2, key: 1, value: "x"), context: ctx)
        let dispatcher = TriggerDispatcher(node: node, invoker: RecordingInvoker(), logger: .init(label: "t"))
        #expect(try dispatcher.pendingCount() == 0)
    }
}
