import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing

/// The §6.1 table as seen in the change events (§6.5): one event per committed mutation, with
/// one change per affected entry, the version after it, and the object flags.
@Suite struct ChangeEventTests {
    @Test func numericSetReplacesAndDeletesKeysItDoesNotName() async throws {
        let h = EventHarness()
        let (_, service) = try h.open()
        _ = try await service.set(objectRequest(7, num: [1: "a", 2: "b"]), context: ctx)
        _ = try await service.set(objectRequest(7, num: [2: "B", 3: "c"], strs: ["s": "x"]), context: ctx)
        let events = h.publisher.events
        #expect(events.count == 2)
        #expect(summary(events[0]) == ["n:1 create", "n:2 create"])
        #expect(events[0].objectCreated && events[0].version == 1 && events[0].objectID == 7 && !events[0].hasObjectIDStr)
        #expect(summary(events[1]) == ["n:1 delete", "n:2 update", "n:3 create", "s:s create"])
        #expect(!events[1].objectCreated && events[1].version == 2 && events[1].changedTotal == 4 && !events[1].truncated)
        #expect(events.allSatisfy { $0.clsID == "cls" && $0.source == .local && !$0.eventID.isEmpty && $0.timestampMs > 0 })
    }

    @Test func stringSetCreatesEveryGivenKey() async throws {
        let h = EventHarness()
        let (_, service) = try h.open()
        _ = try await service.set(objectRequest(str: "User-1", num: [5: "n"], strs: ["name": "a", "Name": "b"]), context: ctx)
        let event = try #require(h.publisher.events.first)
        #expect(summary(event) == ["n:5 create", "s:Name create", "s:name create"])
        #expect(event.objectIDStr == "user-1" && !event.hasObjectID && event.objectCreated && event.version == 1)
    }

    @Test func mergeAndSetValueCreateOrUpdateTheGivenKeys() async throws {
        let h = EventHarness()
        let (_, service) = try h.open()
        _ = try await service.merge(objectRequest(3, num: [1: "a"]), context: ctx)
        _ = try await service.merge(objectRequest(3, num: [1: "b", 2: "c"]), context: ctx)
        _ = try await service.setValue(setKey(3, keyStr: "k", value: "v"), context: ctx)
        _ = try await service.setValue(setKey(3, keyStr: "k", value: "w"), context: ctx)
        _ = try await service.setValue(setKey(4, key: 9, value: "new object"), context: ctx)
        let events = h.publisher.events
        #expect(events.map(summary) == [["n:1 create"], ["n:1 update", "n:2 create"], ["s:k create"], ["s:k update"], ["n:9 create"]])
        #expect(events.map(\.version) == [1, 2, 3, 4, 1])
        #expect(events.map(\.objectCreated) == [true, false, false, false, true])
    }

    @Test func deleteValueEmitsOnlyForExistingKeys() async throws {
        let h = EventHarness()
        let (_, service) = try h.open()
        _ = try await service.set(objectRequest(3, num: [1: "a"]), context: ctx)
        _ = try await service.deleteValue(keyRequest(3, key: 1), context: ctx)
        _ = try await service.deleteValue(keyRequest(3, key: 1), context: ctx)
        _ = try await service.deleteValue(keyRequest(3, keyStr: "absent"), context: ctx)
        let events = h.publisher.events
        #expect(events.map(summary) == [["n:1 create"], ["n:1 delete"]])
        #expect(events.last?.version == 2)
    }

    @Test func batchIsOneEventWithSetsAndDeletes() async throws {
        let h = EventHarness()
        let (_, service) = try h.open()
        _ = try await service.set(objectRequest(3, num: [1: "a"], strs: ["old": "x", "gone": "y"]), context: ctx)
        _ = try await service.batchSetValues(batchRequest(3, set: ["old": "x2", "new": "z"], setNum: [1: "b"],
                                                          delete: ["gone", "never"], deleteNum: [42]), context: ctx)
        // An empty batch and a batch deleting only absent keys are no-ops: no bump, no event.
        _ = try await service.batchSetValues(batchRequest(3), context: ctx)
        _ = try await service.batchSetValues(batchRequest(3, delete: ["never"]), context: ctx)
        let events = h.publisher.events
        #expect(events.count == 2)
        #expect(summary(events[1]) == ["s:gone delete", "n:1 update", "s:new create", "s:old update"])
        #expect(events[1].version == 2)
    }

    @Test func deleteEmitsEveryKeyAndMarksTheObjectDeleted() async throws {
        let h = EventHarness()
        let (_, service) = try h.open()
        _ = try await service.set(objectRequest(3, num: [1: "a"], strs: ["s": "b"]), context: ctx)
        _ = try await service.delete(single(3), context: ctx)
        _ = try await service.set(objectRequest(3, num: [1: "again"]), context: ctx)
        let events = h.publisher.events
        #expect(events.count == 3)
        #expect(summary(events[1]) == ["n:1 delete", "s:s delete"])
        #expect(events[1].objectDeleted && events[1].version == 2)
        // The re-create continues from the tombstone's version.
        #expect(summary(events[2]) == ["n:1 create"] && events[2].objectCreated && events[2].version == 3)
    }

    @Test func valuesTravelOnlyWhenIncluded() async throws {
        let without = EventHarness()
        _ = try await without.open().1.setValue(setKey(1, key: 1, value: "v"), context: ctx)
        #expect(without.publisher.events.first?.changes.first?.hasValue == false)

        let with = EventHarness(options: ["ws_event_include_values": "true"])
        let (_, service) = try with.open()
        _ = try await service.setValue(setKey(1, key: 1, value: "v"), context: ctx)
        _ = try await service.deleteValue(keyRequest(1, key: 1), context: ctx)
        let changes = with.publisher.events.flatMap(\.changes)
        #expect(changes.count == 2)
        #expect(text(changes[0].value) == "v")
        #expect(!changes[1].hasValue)

        // The environment default applies when the collection does not say.
        let byEnv = EventHarness { $0.includeValues = true }
        _ = try await byEnv.open().1.setValue(setKey(1, key: 1, value: "e"), context: ctx)
        #expect(text(byEnv.publisher.events.first?.changes.first?.value) == "e")
    }

    @Test func publishingFollowsTheOptionAndTheSwitches() async throws {
        let off = EventHarness(options: ["event_publish": "false"])
        _ = try await off.open().1.setValue(setKey(1, key: 1, value: "v"), context: ctx)
        #expect(off.publisher.events.isEmpty)

        let offByEnv = EventHarness { $0.eventPublish = false }
        _ = try await offByEnv.open().1.setValue(setKey(1, key: 1, value: "v"), context: ctx)
        #expect(offByEnv.publisher.events.isEmpty)

        let overridden = EventHarness(options: ["zenoh_event_publish": "true"]) { $0.eventPublish = false }
        _ = try await overridden.open().1.setValue(setKey(1, key: 1, value: "v"), context: ctx)
        #expect(overridden.publisher.events.count == 1)

        let disabled = EventHarness { $0.eventsEnabled = false }
        let (_, service) = try disabled.open()
        _ = try await service.setValue(setKey(1, key: 1, value: "v"), context: ctx)
        #expect(disabled.publisher.events.isEmpty)
        #expect(disabled.count("odgm_events_emitted_total", [("action", "create")]) == 0)
        #expect(try await service.capabilities(context: ctx).eventPipelineV2 == false)
    }

    @Test func eventsCarryTheNodesEnv() async throws {
        let tagged = EventHarness { $0.env = "edge" }
        _ = try await tagged.open().1.setValue(setKey(1, key: 1, value: "v"), context: ctx)
        #expect(tagged.publisher.events.first?.originEnv == "edge")
        // Without OPRC_ENV the router fills in its own env.
        let untagged = EventHarness()
        _ = try await untagged.open().1.setValue(setKey(1, key: 1, value: "v"), context: ctx)
        #expect(untagged.publisher.events.first?.originEnv == "")
    }

    @Test func changesAreCountedByAction() async throws {
        let h = EventHarness()
        let (_, service) = try h.open()
        _ = try await service.set(objectRequest(1, num: [1: "a", 2: "b"]), context: ctx)
        _ = try await service.set(objectRequest(1, num: [2: "c"]), context: ctx)
        #expect(h.count("odgm_events_emitted_total", [("action", "create")]) == 2)
        #expect(h.count("odgm_events_emitted_total", [("action", "update")]) == 1)
        #expect(h.count("odgm_events_emitted_total", [("action", "delete")]) == 1)
        #expect(try await service.capabilities(context: ctx).eventPipelineV2)
    }

    @Test func updatesCarryStrictlyIncreasingVersions() async throws {
        let h = EventHarness()
        let (_, service) = try h.open()
        for i in 0..<5 { _ = try await service.setValue(setKey(2, key: 1, value: "\(i)"), context: ctx) }
        let versions = h.publisher.events.map(\.version)
        #expect(versions == [1, 2, 3, 4, 5])
    }
}
