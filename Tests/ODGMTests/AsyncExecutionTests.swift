import Foundation
import OaaSCore
import OaaSProto
@testable import ODGM
import Testing

/// The executor: runs, retries, restarts, deadlines and retention of async calls.
@Suite struct AsyncExecutionTests {
    let context = CallContext()

    @Test func runsASubmittedCallToDoneWithItsPayload() async throws {
        let harness = AsyncHarness()
        let invoker = ScriptedInvoker()
        let (_, invocations) = try harness.open(invoker: invoker)
        let submitted = try await invocations.submit(submitObj(payload: "hi"), context: context)
        let stateless = try await invocations.submit(submitFn(payload: "there", invocationID: "fn-1"), context: context)
        let (done, fnDone) = try await withAsyncExecutor(invocations) {
            (try await awaitAsyncState(invocations, resultQuery(submitted.invocationID)),
             try await awaitAsyncState(invocations, resultQuery("fn-1", fn: "hello", id: 0)))
        }
        #expect(done.state == .done)
        #expect(done.response.status == .okay)
        #expect(String(decoding: done.response.payload, as: UTF8.self) == "echo:hi")
        #expect(done.response.invocationID == submitted.invocationID)
        #expect(done.submittedAtMs == harness.clock.now)
        #expect(done.finishedAtMs == harness.clock.now)
        #expect(String(decoding: fnDone.response.payload, as: UTF8.self) == "echo:there")
        #expect(fnDone.response.invocationID == stateless.invocationID)

        let calls = invoker.calls.sorted { $0.fn < $1.fn }
        #expect(calls.map(\.fn) == ["echo", "hello"])
        #expect(calls.map(\.invocationID) == [submitted.invocationID, "fn-1"])
        #expect(calls.allSatisfy { $0.hasDeadline })
        #expect(try invocations.shared.stores().map { try $0.pendingTotal() } == [0])
    }

    @Test func aResubmittedIDRunsOnce() async throws {
        let harness = AsyncHarness()
        let invoker = ScriptedInvoker()
        let (_, invocations) = try harness.open(invoker: invoker)
        _ = try await invocations.submit(submitObj(invocationID: "once"), context: context)
        try await withAsyncExecutor(invocations) {
            try await awaitAsyncState(invocations, resultQuery("once"))
            let again = try await invocations.submit(submitObj(payload: "other", invocationID: "once"), context: context)
            #expect(again.state == .done)
            // Give a wrongly queued re-run the chance to happen before counting.
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(invoker.calls.count == 1)
        let result = try await invocations.getResult(resultQuery("once"), context: context)
        #expect(String(decoding: result.response.payload, as: UTF8.self) == "echo:hi")
    }

    @Test func retriesSystemErrorsWithTheSameInvocationID() async throws {
        let harness = AsyncHarness()
        let invoker = ScriptedInvoker { attempt, call in
            switch attempt {
            case 0: fakeResponse("boom", status: .systemError)
            case 1: throw OaaSError(.unavailable, "runtime down")
            default: fakeResponse("ok:\(call.payload)")
            }
        }
        let (_, invocations) = try harness.open(invoker: invoker)
        _ = try await invocations.submit(submitObj(invocationID: "retry-me"), context: context)
        let done = try await withAsyncExecutor(invocations) { try await awaitAsyncState(invocations, resultQuery("retry-me")) }
        #expect(done.response.status == .okay)
        #expect(String(decoding: done.response.payload, as: UTF8.self) == "ok:hi")
        #expect(invoker.calls.count == 3)
        #expect(invoker.calls.allSatisfy { $0.invocationID == "retry-me" })
    }

    @Test func keepsTheLastOutcomeWhenRetriesRunOut() async throws {
        let harness = AsyncHarness()
        let invoker = ScriptedInvoker { _, _ in throw OaaSError(.unavailable, "runtime down") }
        let (_, invocations) = try harness.open(invoker: invoker) { $0.maxRetries = 2 }
        _ = try await invocations.submit(submitObj(invocationID: "doomed"), context: context)
        let done = try await withAsyncExecutor(invocations) { try await awaitAsyncState(invocations, resultQuery("doomed")) }
        #expect(invoker.calls.count == 3)
        #expect(done.response.status == .systemError)
        #expect(String(decoding: done.response.payload, as: UTF8.self) == "UNAVAILABLE: runtime down")
        #expect(done.response.invocationID == "doomed")
    }

    @Test func aPermanentFailureIsStoredAtOnce() async throws {
        let harness = AsyncHarness()
        let invoker = ScriptedInvoker { _, _ in throw OaaSError(.noFunction, "function 'echo' not found in class 'svc'") }
        let (_, invocations) = try harness.open(invoker: invoker)
        _ = try await invocations.submit(submitObj(invocationID: "gone"), context: context)
        let done = try await withAsyncExecutor(invocations) { try await awaitAsyncState(invocations, resultQuery("gone")) }
        #expect(invoker.calls.count == 1)
        #expect(done.response.status == .systemError)
        #expect(String(decoding: done.response.payload, as: UTF8.self).hasPrefix("NOT_FOUND: function 'echo'"))
    }

    @Test func anAppErrorIsAnOutcomeNotARetry() async throws {
        let harness = AsyncHarness()
        let invoker = ScriptedInvoker { _, _ in fakeResponse("bad input", status: .appError) }
        let (_, invocations) = try harness.open(invoker: invoker)
        _ = try await invocations.submit(submitObj(invocationID: "app"), context: context)
        let done = try await withAsyncExecutor(invocations) { try await awaitAsyncState(invocations, resultQuery("app")) }
        #expect(invoker.calls.count == 1)
        #expect(done.response.status == .appError)
    }

    @Test func aRunThatOutlivesItsDeadlineFails() async throws {
        let harness = AsyncHarness()
        let invoker = ScriptedInvoker { _, _ in
            try await Task.sleep(for: .seconds(30))
            return fakeResponse("late")
        }
        let (_, invocations) = try harness.open(invoker: invoker) {
            $0.invokeTimeout = .milliseconds(30)
            $0.maxRetries = 1
        }
        _ = try await invocations.submit(submitObj(invocationID: "slow"), context: context)
        let done = try await withAsyncExecutor(invocations) { try await awaitAsyncState(invocations, resultQuery("slow")) }
        #expect(invoker.calls.count == 2)
        #expect(done.response.status == .systemError)
        #expect(String(decoding: done.response.payload, as: UTF8.self).hasPrefix("DEADLINE_EXCEEDED"))
    }

    @Test func aRestartRerunsUnfinishedCalls() async throws {
        let harness = AsyncHarness()
        // First process: one call hangs in its runtime when the process stops; one was never started.
        let hanging = ScriptedInvoker { _, _ in
            try await Task.sleep(for: .seconds(3600))
            return fakeResponse("never")
        }
        let (_, first) = try harness.open(invoker: hanging)
        _ = try await first.submit(submitObj(payload: "a", invocationID: "interrupted"), context: context)
        try await withAsyncExecutor(first) {
            let running = try await awaitAsyncState(first, resultQuery("interrupted"), .running)
            #expect(running.state == .running)
        }
        _ = try await first.submit(submitFn(payload: "b", invocationID: "queued"), context: context)
        #expect(try await first.getResult(resultQuery("interrupted"), context: context).state == .running)
        harness.closeAll()

        // Second process over the same files.
        let invoker = ScriptedInvoker()
        let (_, second) = try harness.open(invoker: invoker)
        let (a, b) = try await withAsyncExecutor(second) {
            (try await awaitAsyncState(second, resultQuery("interrupted")),
             try await awaitAsyncState(second, resultQuery("queued", fn: "hello", id: 0)))
        }
        #expect(String(decoding: a.response.payload, as: UTF8.self) == "echo:a")
        #expect(String(decoding: b.response.payload, as: UTF8.self) == "echo:b")
        #expect(Set(invoker.calls.compactMap(\.invocationID)) == ["interrupted", "queued"])
        #expect(hanging.calls.map(\.invocationID) == ["interrupted"])
        #expect(try second.shared.stores().map { try $0.pendingTotal() } == [0])
    }

    @Test func resultsExpireAfterTheirRetention() async throws {
        let harness = AsyncHarness()
        let (_, invocations) = try harness.open(invoker: ScriptedInvoker()) { $0.resultTTL = .seconds(60) }
        _ = try await invocations.submit(submitObj(invocationID: "short-lived"), context: context)
        try await withAsyncExecutor(invocations) { try await awaitAsyncState(invocations, resultQuery("short-lived")) }

        harness.clock.advance(seconds: 59)
        #expect(try await invocations.getResult(resultQuery("short-lived"), context: context).state == .done)
        #expect(try await invocations.purgeExpired() == 0)

        harness.clock.advance(seconds: 1)
        let error = await #expect(throws: OaaSError.self) {
            try await invocations.getResult(resultQuery("short-lived"), context: context)
        }
        #expect(error?.code == .noInvocation)
        #expect(try await invocations.purgeExpired() == 1)
        #expect(try await invocations.purgeExpired() == 0)
        let key = AsyncCallKey(collection: "svc", partition: 0, invocationID: "short-lived")
        #expect(try invocations.shared.stores().first?.record(key) == nil)
        // The id is free again once purged.
        #expect(try await invocations.submit(submitObj(invocationID: "short-lived"), context: context).state == .pending)
    }

    @Test func anExpiredIDCanBeSubmittedAgainBeforeItIsPurged() async throws {
        let harness = AsyncHarness()
        let invoker = ScriptedInvoker()
        let (_, invocations) = try harness.open(invoker: invoker) { $0.resultTTL = .seconds(10) }
        _ = try await invocations.submit(submitObj(payload: "first", invocationID: "reused"), context: context)
        try await withAsyncExecutor(invocations) { try await awaitAsyncState(invocations, resultQuery("reused")) }
        harness.clock.advance(seconds: 10)
        #expect(try await invocations.submit(submitObj(payload: "second", invocationID: "reused"), context: context).state == .pending)
        // The old result's expiry entry went with it: purging now must not delete the new call.
        #expect(try await invocations.purgeExpired() == 0)
        let done = try await withAsyncExecutor(invocations) { try await awaitAsyncState(invocations, resultQuery("reused")) }
        #expect(String(decoding: done.response.payload, as: UTF8.self) == "echo:second")
        #expect(invoker.calls.map(\.payload) == ["first", "second"])
    }
}
