import Foundation
import OaaSCore
import OaaSProto
@testable import ODGM
import Testing

/// Submit and GetResult without the executor: validation, idempotency, the pending cap, lookups.
@Suite struct AsyncSubmitTests {
    let context = CallContext()

    @Test func submitRecordsAPendingCallWithAGeneratedID() async throws {
        let harness = AsyncHarness()
        let (_, invocations) = try harness.open(invoker: ScriptedInvoker())
        let submitted = try await invocations.submit(submitObj(), context: context)
        #expect(submitted.state == .pending)
        #expect(submitted.invocationID.utf8.count == 21)
        #expect(submitted.invocationID.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })

        let result = try await invocations.getResult(resultQuery(submitted.invocationID), context: context)
        #expect(result.state == .pending)
        #expect(result.submittedAtMs == harness.clock.now)
        #expect(result.finishedAtMs == 0)
        #expect(!result.hasResponse)

        let other = try await invocations.submit(submitObj(), context: context)
        #expect(other.invocationID != submitted.invocationID)
    }

    @Test func resubmittingAKnownIDReturnsItWithoutANewRecord() async throws {
        let harness = AsyncHarness()
        let (_, invocations) = try harness.open(invoker: ScriptedInvoker())
        let first = try await invocations.submit(submitObj(payload: "one", invocationID: "job-1"), context: context)
        let again = try await invocations.submit(submitObj(payload: "two", invocationID: "job-1"), context: context)
        #expect(first.invocationID == "job-1")
        #expect(again.invocationID == "job-1")
        #expect(again.state == .pending)
        // One record and one queue entry: the second submit wrote nothing.
        let store = try #require(invocations.shared.stores().first)
        #expect(try store.pendingTotal() == 1)
        #expect(try store.queued(limit: 10).map(\.key.invocationID) == ["job-1"])
        let record = try #require(try store.record(AsyncCallKey(collection: "svc", partition: 0, invocationID: "job-1")))
        guard case .obj(let call) = record.call else {
            Issue.record("stored call is not an object call")
            return
        }
        #expect(String(decoding: call.payload, as: UTF8.self) == "one")
    }

    @Test(arguments: [
        ("", OaaSError.Code.invalidArgument),
        (String(repeating: "a", count: 65), .invalidArgument),
        ("has space", .invalidArgument),
        ("dot.ted", .invalidArgument),
        ("ünïcode", .invalidArgument),
    ])
    func rejectsBadInvocationIDs(id: String, code: OaaSError.Code) async throws {
        let harness = AsyncHarness()
        let (_, invocations) = try harness.open(invoker: ScriptedInvoker())
        let error = await #expect(throws: OaaSError.self) {
            try await invocations.submit(submitObj(invocationID: id), context: context)
        }
        #expect(error?.code == code)
        #expect(error?.message.contains("invocation_id") == true)
    }

    @Test func acceptsIDsAtTheEdgesOfTheRule() async throws {
        let harness = AsyncHarness()
        let (_, invocations) = try harness.open(invoker: ScriptedInvoker())
        for id in ["a", String(repeating: "Z", count: 64), "A-z_0-9"] {
            #expect(try await invocations.submit(submitObj(invocationID: id), context: context).invocationID == id)
        }
    }

    @Test func validatesLikeASyncCall() async throws {
        let harness = AsyncHarness()
        let (_, invocations) = try harness.open(invoker: ScriptedInvoker())
        func code(_ request: Oaas_Invocation_SubmitRequest) async -> (OaaSError.Code?, String) {
            do {
                _ = try await invocations.submit(request, context: context)
                return (nil, "")
            } catch let error as OaaSError {
                return (error.code, error.message)
            } catch {
                return (.internal, "\(error)")
            }
        }
        let empty = await code(Oaas_Invocation_SubmitRequest())
        #expect(empty.0 == .invalidArgument && empty.1.contains("call"))
        #expect(await code(submitObj(cls: "")).0 == .invalidArgument)
        #expect(await code(submitObj(fn: "")).1.contains("fn_id"))
        #expect(await code(submitObj(0)).0 == .invalidObjectId)
        #expect(await code(submitObj(7, idStr: "x")).0 == .invalidObjectId)
        #expect(await code(submitObj(0, idStr: "bad$id")).0 == .invalidObjectId)
        #expect(await code(submitObj(cls: "nope")).0 == .noClass)
        #expect(await code(submitObj(pid: 2)).0 == .noPartition)
        #expect(await code(submitFn(pid: 9)).0 == .noPartition)
        #expect(await code(submitObj(fn: "missing")).0 == .noFunction)
        #expect(await code(submitObj(fn: "off")).0 == .functionDisabled)
        #expect(await code(submitFn(fn: "off")).0 == .functionDisabled)
        let wrongRPC = await code(submitFn(fn: "echo"))
        #expect(wrongRPC.0 == .invalidArgument && wrongRPC.1.contains("InvokeObj"))
        #expect(await code(submitObj(fn: "hello")).1.contains("InvokeFn"))
        #expect(await code(submitFn()).0 == nil)
        #expect(await code(submitObj(0, idStr: "User-1")).0 == nil)
    }

    @Test func capsUnfinishedCallsPerShard() async throws {
        let harness = AsyncHarness()
        let (_, invocations) = try harness.open(invoker: ScriptedInvoker()) { $0.maxPending = 2 }
        _ = try await invocations.submit(submitObj(invocationID: "a"), context: context)
        _ = try await invocations.submit(submitFn(invocationID: "b"), context: context)
        let error = await #expect(throws: OaaSError.self) {
            try await invocations.submit(submitObj(invocationID: "c"), context: context)
        }
        #expect(error?.code == .resourceExhausted)
        #expect(error?.rpcCode == .resourceExhausted)
        // A known id is still answered at the cap, and the cap is per shard.
        #expect(try await invocations.submit(submitObj(invocationID: "a"), context: context).invocationID == "a")
        #expect(try await invocations.submit(submitObj(pid: 1, invocationID: "c"), context: context).state == .pending)
        // Finishing calls frees their slots.
        try await withAsyncExecutor(invocations) {
            try await awaitAsyncState(invocations, resultQuery("a"))
            try await awaitAsyncState(invocations, resultQuery("b", fn: "hello", id: 0))
        }
        #expect(try await invocations.submit(submitObj(invocationID: "c"), context: context).state == .pending)
    }

    @Test func getResultMatchesClassPartitionFunctionAndObject() async throws {
        let harness = AsyncHarness()
        let (_, invocations) = try harness.open(invoker: ScriptedInvoker())
        _ = try await invocations.submit(submitObj(0, idStr: "User-1", invocationID: "obj-call"), context: context)
        _ = try await invocations.submit(submitFn(invocationID: "fn-call"), context: context)
        func code(_ request: Oaas_Invocation_GetResultRequest) async -> OaaSError.Code? {
            do {
                _ = try await invocations.getResult(request, context: context)
                return nil
            } catch let error as OaaSError {
                return error.code
            } catch {
                return .internal
            }
        }
        // The object id is normalized on both sides.
        #expect(await code(resultQuery("obj-call", id: 0, idStr: "USER-1")) == nil)
        #expect(await code(resultQuery("fn-call", fn: "hello", id: 0)) == nil)
        #expect(await code(resultQuery("obj-call", fn: "hello", id: 0, idStr: "user-1")) == .noInvocation)
        #expect(await code(resultQuery("obj-call", id: 0, idStr: "user-2")) == .noInvocation)
        #expect(await code(resultQuery("obj-call", id: 1)) == .noInvocation)
        #expect(await code(resultQuery("obj-call", id: 0)) == .noInvocation)
        #expect(await code(resultQuery("fn-call", fn: "hello", id: 7)) == .noInvocation)
        #expect(await code(resultQuery("fn-call", fn: "hello", id: 0, pid: 1)) == .noInvocation)
        #expect(await code(resultQuery("unknown", id: 0, idStr: "user-1")) == .noInvocation)
        #expect(await code(resultQuery("bad id", id: 0)) == .invalidArgument)
        var noClass = resultQuery("fn-call", fn: "hello", id: 0)
        noClass.clsID = "nope"
        #expect(await code(noClass) == .noClass)
        #expect(await code(resultQuery("fn-call", fn: "hello", id: 0, pid: 5)) == .noPartition)
    }
}
