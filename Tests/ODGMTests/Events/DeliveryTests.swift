import Foundation
import Logging
import ODGM
import OaaSCore
import OaaSProto
import Synchronization
import Testing

/// The outbox and the dispatcher (spec §6.4): deliveries commit with the mutation, survive a
/// restart, are retried with the same invocation id, and leave the outbox with a counted outcome.
@Suite struct DeliveryTests {
    @Test func pendingDeliveriesSurviveARestart() async throws {
        let h = EventHarness()
        do {
            let (node, service) = try h.open()
            _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
            _ = try await service.setValue(setKey(1, key: 1, value: "b"), context: ctx)
            // No dispatcher ran: both deliveries are committed and pending.
            #expect(try TriggerDispatcher(node: node, invoker: RecordingInvoker(), logger: Logger(label: "t")).pendingCount() == 2)
            h.closeAll()
        }
        let (node, _) = try h.open()
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            let calls = try await drained(dispatcher, invoker, calls: 2)
            #expect(calls.map(\.fn) == ["create-1", "update-1"])
        }
        #expect(h.deliveries("ok") == 2)
    }

    @Test func aDeliveryInterruptedByShutdownIsSentAgain() async throws {
        let h = EventHarness()
        let started = Mutex(false)
        let (node, service) = try h.open()
        _ = try await service.setValue(setKey(1, key: 1, value: "a"), context: ctx)
        _ = try await service.merge(objectRequest(1, event: triggers(numeric: [1])), context: ctx)
        _ = try await service.setValue(setKey(1, key: 1, value: "b"), context: ctx)
        let hanging = RecordingInvoker { _, _ in
            started.withLock { $0 = true }
            try await Task.sleep(for: .seconds(60))
            return fakeResponse("late")
        }
        try await withDispatcher(node, hanging) { _ in
            #expect(await eventually { started.withLock { $0 } })
        }
        h.closeAll()
        let (again, _) = try h.open()
        let invoker = RecordingInvoker()
        try await withDispatcher(again, invoker) { dispatcher in
            let calls = try await drained(dispatcher, invoker, calls: 1)
            #expect(calls.map(\.fn) == ["update-1"])
            #expect(calls[0].invocationID == hanging.calls.first?.invocationID)
        }
    }

    @Test func retriesKeepTheInvocationIdUntilSuccess() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        let invoker = RecordingInvoker { attempt, _ in
            switch attempt {
            case 0: return fakeResponse("boom", status: .systemError)
            case 1: throw OaaSError(.unavailable, "runtime restarting")
            default: return fakeResponse("ok")
            }
        }
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
            let calls = try await drained(dispatcher, invoker, calls: 3)
            #expect(calls.count == 3)
            #expect(Set(calls.compactMap(\.invocationID)).count == 1)
        }
        #expect(h.deliveries("retry") == 2 && h.deliveries("ok") == 1 && h.deliveries("exhausted") == 0)
    }

    @Test func retriesRunOutThenTheDeliveryIsDropped() async throws {
        let h = EventHarness { $0.triggerMaxRetries = 2 }
        let (node, service) = try h.open()
        let invoker = RecordingInvoker { _, _ in throw OaaSError(.deadlineExceeded, "slow") }
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.setValue(setKey(1, key: 1, value: "a"), context: ctx)
            _ = try await service.merge(objectRequest(1, num: [1: "b"], event: triggers(numeric: [1])), context: ctx)
            _ = try await service.setValue(setKey(1, key: 1, value: "c"), context: ctx)
            let calls = try await drained(dispatcher, invoker, calls: 3)
            #expect(calls.count == 3)
        }
        #expect(h.deliveries("retry") == 2 && h.deliveries("exhausted") == 1)
    }

    @Test func permanentErrorsAndAppErrorsAreFinal() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        let invoker = RecordingInvoker { _, call in
            switch call.fn {
            case "create-1": throw OaaSError(.noFunction, "function 'create-1' not found in class 'sink'")
            case "update-1": return fakeResponse("domain error", status: .appError)
            case "delete-1": return fakeResponse("bad input", status: .invalidRequest)
            default: throw OaaSError(.invalidArgument, "object_id must be non-zero")
            }
        }
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
            _ = try await service.setValue(setKey(1, key: 1, value: "b"), context: ctx)
            _ = try await service.deleteValue(keyRequest(1, key: 1), context: ctx)
            let calls = try await drained(dispatcher, invoker, calls: 3)
            #expect(calls.map(\.fn) == ["create-1", "update-1", "delete-1"])
        }
        #expect(h.deliveries("invalid") == 1 && h.deliveries("app_error") == 2 && h.deliveries("retry") == 0)
    }

    @Test func eachAttemptHasTheTriggerTimeout() async throws {
        let h = EventHarness {
            $0.triggerTimeout = .milliseconds(200)
            // Spare retries, in case a loaded machine makes a quick attempt miss its deadline too.
            $0.triggerMaxRetries = 5
        }
        let (node, service) = try h.open()
        // The first attempt ignores its deadline and hangs; the dispatcher gives up on it and retries.
        let invoker = RecordingInvoker { attempt, _ in
            if attempt == 0 { try await Task.sleep(for: .seconds(30)) }
            return fakeResponse("ok")
        }
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
            _ = try await drained(dispatcher, invoker, calls: 2)
        }
        #expect(h.deliveries("retry") >= 1 && h.deliveries("ok") == 1 && h.deliveries("exhausted") == 0)
    }

    @Test func objectsRunConcurrentlyButEachObjectInOrder() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        let gate = Mutex<[CheckedContinuation<Void, Never>]>([])
        let running = Mutex<[String]>([])
        // Object 1's first delivery blocks until released; object 2 must not wait for it.
        let invoker = RecordingInvoker { _, call in
            let source = try call.jsonPayload().eventInfo
            let label = "\(source.sourceObjectID)@\(source.context["object_version"] ?? "")"
            running.withLock { $0.append(label) }
            if label == "1@1" {
                await withCheckedContinuation { continuation in gate.withLock { $0.append(continuation) } }
            }
            return fakeResponse("ok")
        }
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
            _ = try await service.setValue(setKey(1, key: 1, value: "b"), context: ctx)
            _ = try await service.set(objectRequest(2, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
            #expect(await eventually { running.withLock { $0.contains("2@1") } })
            // Object 1's second delivery has not started while its first is in flight.
            #expect(!running.withLock { $0.contains("1@2") })
            while let waiter = gate.withLock({ $0.popLast() }) { waiter.resume() }
            _ = try await drained(dispatcher, invoker, calls: 3)
            let order = running.withLock { $0 }
            #expect(order.firstIndex(of: "1@1").map { first in order.firstIndex(of: "1@2").map { first < $0 } ?? false } == true)
            // Released even if the expectations above failed.
            while let waiter = gate.withLock({ $0.popLast() }) { waiter.resume() }
        }
    }

    @Test func objectsTakeTurnsWhenSlotsAreScarce() async throws {
        let h = EventHarness { $0.maxConcurrentTriggers = 1 }
        let (node, service) = try h.open()
        _ = try await service.set(objectRequest(1, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
        _ = try await service.setValue(setKey(1, key: 1, value: "b"), context: ctx)
        _ = try await service.setValue(setKey(1, key: 1, value: "c"), context: ctx)
        _ = try await service.set(objectRequest(2, num: [1: "a"], event: triggers(numeric: [1])), context: ctx)
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            let calls = try await drained(dispatcher, invoker, calls: 4)
            let order = try calls.map { call in
                let info = try call.jsonPayload().eventInfo
                return "\(info.sourceObjectID)@\(info.context["object_version"] ?? "")"
            }
            // Object 2 gets its turn before object 1's backlog is done.
            #expect(order == ["1@1", "2@1", "1@2", "1@3"])
        }
    }

    @Test func outboxDepthIsGaugedPerShard() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        _ = try await service.set(objectRequest(1, num: [1: "a"], strs: ["x": "y"], event: triggers(numeric: [1], strings: ["x"])), context: ctx)
        #expect(h.count("odgm_trigger_outbox_depth", [("collection", "cls"), ("partition", "0")]) == 2)
        let invoker = RecordingInvoker()
        try await withDispatcher(node, invoker) { dispatcher in
            _ = try await drained(dispatcher, invoker, calls: 2)
        }
        #expect(h.count("odgm_trigger_outbox_depth", [("collection", "cls"), ("partition", "0")]) == 0)
    }
}
