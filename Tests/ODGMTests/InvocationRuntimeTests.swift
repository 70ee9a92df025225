import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Synchronization
import Testing

/// Calls to a real loopback runtime: pass-through, options and metadata of spec §5.4, the outcome
/// table of §5.2, deadlines, invocation ids, metrics (§11.2) and the pool.
@Suite struct InvocationRuntimeTests {
    @Test func echoPassesThroughWithOptionsAndMetadata() async throws {
        try await InvocationHarness.run { h in
            let context = CallContext(triggerDepth: 2, traceparent: "00-abc-def-01", tracestate: "k=v", invocationID: "inv-1")
            let response = try await h.invoker.invokeFn(fnCall("echo", partition: 1, payload: "hello", options: ["accept": "application/json", "k": "v"]), context: context)
            #expect(response.status == .okay)
            #expect(payloadText(response) == "hello")
            #expect(response.invocationID == "inv-1")

            let call = try #require(h.runtime.last)
            let request = try #require(call.fn)
            #expect(request.partitionID == 1)
            #expect(request.clsID == "shop" && request.fnID == "echo")
            #expect(call.options == [
                "accept": "application/json", "k": "v",
                "oaas-invocation-id": "inv-1", "oaas-trigger-depth": "2",
                "traceparent": "00-abc-def-01", "tracestate": "k=v",
            ])
            #expect(call.metadata["oaas-invocation-id"] == "inv-1")
            #expect(call.metadata["oaas-trigger-depth"] == "2")
            #expect(call.metadata["traceparent"] == "00-abc-def-01")
            #expect(call.metadata["tracestate"] == "k=v")
            #expect(call.metadata["grpc-timeout"] != nil)
        }
    }

    @Test func objectCallsCarryTheNormalizedIdAndNeedNoObject() async throws {
        try await InvocationHarness.run { h in
            let response = try await h.invoker.invokeObj(objCall("touch", str: "User-42", payload: "x"), context: CallContext())
            #expect(response.status == .okay)
            let sent = try #require(h.runtime.last?.obj)
            #expect(sent.objectIDStr == "user-42")
            #expect(sent.objectID == 0)
            _ = try await h.invoker.invokeObj(objCall("touch", id: 42), context: CallContext())
            let numeric = try #require(h.runtime.last?.obj)
            #expect(numeric.objectID == 42 && !numeric.hasObjectIDStr)
        }
    }

    @Test func invocationIdIsGeneratedWhenNoneIsGivenAndTheRuntimesWins() async throws {
        try await InvocationHarness.run { h in
            let generated = try await h.invoker.invokeFn(fnCall("echo"), context: CallContext())
            #expect(generated.invocationID.utf8.count == 21)
            #expect(InvocationIDs.isValid(generated.invocationID))
            #expect(h.runtime.last?.options["oaas-invocation-id"] == generated.invocationID)
            #expect(h.runtime.last?.metadata["oaas-invocation-id"] == generated.invocationID)
            #expect(h.runtime.last?.metadata["oaas-trigger-depth"] == "0")
            // An id from a caller that only speaks options is kept.
            let fromOptions = try await h.invoker.invokeFn(fnCall("echo", options: ["oaas-invocation-id": "opt-id"]), context: CallContext())
            #expect(fromOptions.invocationID == "opt-id")
            let own = try await h.invoker.invokeFn(fnCall("own-id"), context: CallContext(invocationID: "ours"))
            #expect(own.invocationID == "runtime-chosen")
        }
    }

    @Test func runtimeHeadersAndStatusPassThrough() async throws {
        try await InvocationHarness.run { h in
            let response = try await h.invoker.invokeFn(fnCall("headers", payload: "bad"), context: CallContext())
            #expect(response.status == .appError)
            #expect(response.headers == ["content-type": "text/plain", "x-custom": "1"])
            #expect(payloadText(response) == "bad")
        }
    }

    @Test func runtimeGRPCErrorIsAppError() async throws {
        try await InvocationHarness.run { h in
            let response = try await h.invoker.invokeFn(fnCall("fail"), context: CallContext(invocationID: "f1"))
            #expect(response.status == .appError)
            #expect(payloadText(response) == "insufficient funds")
            #expect(response.headers["grpc-status"] == "FAILED_PRECONDITION")
            #expect(response.invocationID == "f1")
        }
    }

    @Test func unreachableRuntimeIsSystemError() async throws {
        try await InvocationHarness.run { h in
            let response = try await h.invoker.invokeFn(fnCall("down"), context: CallContext(deadline: .now + .seconds(5)))
            #expect(response.status == .systemError)
            #expect(payloadText(response).contains("http://127.0.0.1:1"))
            #expect(!response.invocationID.isEmpty)
        }
    }

    @Test func slowRuntimeHitsTheDeadline() async throws {
        try await InvocationHarness.run { h in
            let start = ContinuousClock.now
            let error = await invocationError {
                _ = try await h.invoker.invokeFn(fnCall("slow"), context: CallContext(deadline: .now + .milliseconds(200)))
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(ContinuousClock.now - start < .seconds(15))  // the deadline fired, not the 30 s of the slow side
            #expect(h.metrics.count("oaas_invocations_total", [("cls", "shop"), ("fn", "slow"), ("oaas_owner", "127.0.0.1"), ("status", "DEADLINE_EXCEEDED")]) == 1)
            // An expired deadline never reaches the runtime.
            let calls = h.runtime.calls.count
            let expired = await invocationError { _ = try await h.invoker.invokeFn(fnCall("echo"), context: CallContext(deadline: .now - .seconds(1))) }
            #expect(expired?.code == .deadlineExceeded)
            #expect(h.runtime.calls.count == calls)
        }
    }

    @Test func defaultTimeoutAppliesWithoutADeadline() async throws {
        try await InvocationHarness.run(settings: InvocationSettings(invokeTimeout: .milliseconds(200))) { h in
            let error = await invocationError { _ = try await h.invoker.invokeFn(fnCall("slow"), context: CallContext()) }
            #expect(error?.code == .deadlineExceeded)
        }
    }

    @Test func metricsCountEveryRuntimeCall() async throws {
        try await InvocationHarness.run { h in
            _ = try await h.invoker.invokeFn(fnCall("echo"), context: CallContext())
            _ = try await h.invoker.invokeFn(fnCall("echo"), context: CallContext())
            _ = try await h.invoker.invokeFn(fnCall("fail"), context: CallContext())
            _ = try await h.invoker.invokeFn(fnCall("wasm-fn"), context: CallContext())
            _ = await invocationError { _ = try await h.invoker.invokeFn(fnCall("missing"), context: CallContext()) }
            let echo: [(String, String)] = [("cls", "shop"), ("fn", "echo"), ("oaas_owner", "127.0.0.1")]
            #expect(h.metrics.count("oaas_invocations_total", echo + [("status", "OKAY")]) == 2)
            #expect(h.metrics.timerSamples("oaas_invocation_duration_seconds", echo).count == 2)
            #expect(h.metrics.count("oaas_invocations_total", [("cls", "shop"), ("fn", "fail"), ("oaas_owner", "127.0.0.1"), ("status", "APP_ERROR")]) == 1)
            #expect(h.metrics.count("oaas_invocations_total", [("cls", "shop"), ("fn", "wasm-fn"), ("oaas_owner", "wasm-fn"), ("status", "SYSTEM_ERROR")]) == 1)
            // A call that reached no runtime is not an invocation.
            #expect(h.metrics.timerSamples("oaas_invocation_duration_seconds", [("cls", "shop"), ("fn", "missing"), ("oaas_owner", "127.0.0.1")]).isEmpty)
        }
    }

    @Test func poolReusesOneClientAndEnforcesItsLimit() async throws {
        try await InvocationHarness.run(options: ["offload_max_pool_size": "1"]) { h in
            _ = try await h.invoker.invokeFn(fnCall("echo"), context: CallContext())
            _ = try await h.invoker.invokeFn(fnCall("fail"), context: CallContext())
            #expect(h.pool.clientCount == 1)
            // A pool of one connection carries 100 calls at once.
            let slots = RuntimePoolSettings.callsPerConnection
            try await withThrowingTaskGroup(of: Oprc_InvocationResponse.self) { group in
                for _ in 0..<slots {
                    group.addTask { try await h.invoker.invokeFn(fnCall("gated"), context: CallContext()) }
                }
                // Wait until the gated calls hold every slot.
                while h.runtime.calls.filter({ $0.fn?.fnID == "gated" }).count < slots { try await Task.sleep(for: .milliseconds(5)) }
                let refused = try await h.invoker.invokeFn(fnCall("echo"), context: CallContext())
                #expect(refused.status == .systemError)
                #expect(payloadText(refused).contains("offload_max_pool_size 1 × 100"))
                h.runtime.openGate()
                for _ in 0..<slots { #expect(try await group.next()?.status == .okay) }
            }
            #expect(try await h.invoker.invokeFn(fnCall("echo"), context: CallContext()).status == .okay)
        }
    }

    @Test func observerSeesObjectCallsWithTheirOutcome() async throws {
        let observer = RecordingObserver()
        try await InvocationHarness.run(observer: observer) { h in
            _ = try await h.invoker.invokeObj(objCall("touch", id: 7, payload: "a"), context: CallContext(invocationID: "o1"))
            _ = await invocationError {
                _ = try await h.invoker.invokeObj(objCall("slow-method", id: 7), context: CallContext(deadline: .now + .milliseconds(100)))
            }
            _ = try await h.invoker.invokeFn(fnCall("echo"), context: CallContext())
            _ = await invocationError { _ = try await h.invoker.invokeObj(objCall("missing", id: 7), context: CallContext()) }
        }
        let seen = observer.seen
        #expect(seen.count == 2)
        #expect(seen.first?.fn == "touch" && seen.first?.outcome == "OKAY" && seen.first?.invocationID == "o1")
        #expect(seen.last?.fn == "slow-method" && seen.last?.outcome == "DEADLINE_EXCEEDED")
    }
}

/// Records what an ``InvocationObserver`` is told.
final class RecordingObserver: InvocationObserver {
    struct Seen: Sendable {
        let fn: String
        let outcome: String
        let invocationID: String?
    }

    private let log = Mutex<[Seen]>([])
    var seen: [Seen] { log.withLock { $0 } }

    func objectInvocationFinished(_ request: Oprc_ObjectInvocationRequest, result: Result<Oprc_InvocationResponse, OaaSError>, context: CallContext) async {
        let outcome = switch result {
        case .success(let response): response.status.name
        case .failure(let error): error.rpcCodeName
        }
        log.withLock { $0.append(Seen(fn: request.fnID, outcome: outcome, invocationID: request.options["oaas-invocation-id"])) }
    }
}
