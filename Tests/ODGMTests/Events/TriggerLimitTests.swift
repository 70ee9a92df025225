import Foundation
import Logging
import ODGM
import OaaSCore
import OaaSProto
import Testing

/// The limits of spec §6.3–6.4: trigger depth, fan-out cap and outbox back-pressure.
@Suite struct TriggerLimitTests {
    @Test func aSelfTriggeringLoopStopsAtTheDepthLimit() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        // The target writes the same key again, passing its depth on as a runtime must.
        let invoker = RecordingInvoker { _, call in
            let depth = Int(call.options[MetadataKeys.triggerDepth] ?? "") ?? -1
            let context = CallContext(triggerDepth: depth, invocationID: call.invocationID)
            _ = try await service.setValue(setKey(1, key: 1, value: "depth \(depth)"), context: context)
            return fakeResponse("ok")
        }
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(1, num: [1: "start"], event: triggers(numeric: [1])), context: ctx)
            #expect(await eventually { h.count("odgm_trigger_depth_exceeded_total") == 1 })
            let calls = try await drained(dispatcher, invoker, calls: 10)
            #expect(calls.count == 10)
            #expect(calls.map(\.context.triggerDepth) == Array(1...10))
        }
        let object = try await service.get(single(1), context: ctx)
        #expect(text(object.obj.entries[1]) == "depth 10")
        #expect(object.objectVersion == 11)
    }

    @Test func theDepthLimitIsConfigurable() async throws {
        let h = EventHarness { $0.maxTriggerDepth = 2 }
        let (node, service) = try h.open()
        _ = try await service.set(objectRequest(1, event: triggers(numeric: [1])), context: ctx)
        _ = try await service.setValue(setKey(1, key: 1, value: "a"), context: CallContext(triggerDepth: 1))
        _ = try await service.setValue(setKey(1, key: 1, value: "b"), context: CallContext(triggerDepth: 2))
        let dispatcher = TriggerDispatcher(node: node, invoker: RecordingInvoker(), logger: Logger(label: "t"))
        #expect(try dispatcher.pendingCount() == 1)
        #expect(h.count("odgm_trigger_depth_exceeded_total") == 1)
        // The mutation itself still happened, and its change event too.
        #expect(h.publisher.events.last?.version == 3)
    }

    @Test func theFanOutCapTruncates() async throws {
        let h = EventHarness { $0.maxTriggerFanout = 1 }
        let (node, service) = try h.open()
        var event = Oprc_ObjectEvent()
        var trigger = Oprc_DataTrigger()
        trigger.onCreate = [target("first"), target("second")]
        event.dataTrigger[1] = trigger
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(1, num: [1: "a"], event: event), context: ctx)
            let calls = try await drained(dispatcher, invoker, calls: 1)
            try await Task.sleep(for: .milliseconds(20))
            #expect(calls.map(\.fn) == ["first"] && invoker.calls.count == 1)
        }
        #expect(h.count("odgm_events_fanout_limited_total") == 1)
        let published = try #require(h.publisher.events.first)
        #expect(published.truncated && published.changedTotal == 1)
    }

    @Test func changeEventsListAtMostTheCap() async throws {
        let h = EventHarness { $0.maxTriggerFanout = 2 }
        let (_, service) = try h.open()
        _ = try await service.set(objectRequest(1, num: [1: "a", 2: "b", 3: "c"]), context: ctx)
        let published = try #require(h.publisher.events.first)
        #expect(published.changes.count == 2 && published.changedTotal == 3 && published.truncated)
        #expect(h.count("odgm_events_fanout_limited_total") == 0)
    }

    @Test func aFullOutboxRefusesMutationsThatWouldAddDeliveries() async throws {
        let h = EventHarness { $0.eventQueueBound = 2 }
        let (node, service) = try h.open()
        _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)  // 1 pending
        _ = try await service.setValue(setKey(1, key: 1, value: "b"), context: ctx)                            // 2 pending
        let before = try await service.get(single(1), context: ctx)
        let refused = await errorCode {
            _ = try await service.batchSetValues(batchRequest(1, set: ["other": "x"], setNum: [1: "c"]), context: ctx)
        }
        #expect(refused == .resourceExhausted)
        // Nothing of the refused mutation was written, and it published nothing.
        let after = try await service.get(single(1), context: ctx)
        #expect(after.objectVersion == before.objectVersion && text(after.obj.entries[1]) == "b" && after.obj.entriesStr.isEmpty)
        #expect(h.publisher.events.count == 2)
        // A mutation that matches no trigger is never refused; other shards have their own outbox.
        _ = try await service.setValue(setKey(1, key: 9, value: "untriggered"), context: ctx)
        var otherShard = objectRequest(1, num: [1: "a"], event: triggers(numeric: [1]))
        otherShard.partitionID = 1
        _ = try await service.set(otherShard, context: ctx)
        // Once the dispatcher drains the outbox, writes go through again.
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await drained(dispatcher, invoker, calls: 3)
        }
        _ = try await service.setValue(setKey(1, key: 1, value: "c"), context: ctx)
    }
}
