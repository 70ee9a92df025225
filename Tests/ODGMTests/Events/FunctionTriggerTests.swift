import Foundation
import Logging
import ODGM
import OaaSCore
import OaaSProto
import Testing

/// Function triggers (spec §6.1): after an InvokeObj through ODGM's invoker and a real loopback
/// runtime, on_complete fires on OKAY and on_error on anything else; InvokeFn fires none.
@Suite struct FunctionTriggerTests {
    private static func funcTriggers(_ fns: [String]) -> Oprc_ObjectEvent {
        var event = Oprc_ObjectEvent()
        for fn in fns {
            var trigger = Oprc_FuncTrigger()
            trigger.onComplete = [target("done-\(fn)")]
            trigger.onError = [target("failed-\(fn)", objectID: 77)]
            event.funcTrigger[fn] = trigger
        }
        return event
    }

    @Test func outcomesFireOnCompleteOrOnError() async throws {
        let runtime = FakeFunctionRuntime()
        try await withLoopbackServer([runtime]) { port in
            try await withRunningPool { pool in
                let url = "http://127.0.0.1:\(port)"
                // `fail` (a gRPC error: APP_ERROR) and `down` (a closed port: SYSTEM_ERROR) as object methods.
                let methods = ["fail": fnRoute(url, stateless: false), "down": fnRoute("http://127.0.0.1:1", stateless: false)]
                let t = try TestNode { $0.collections.append(shopCollection(runtimeURL: url, extraRoutes: methods)) }
                let node = t.node
                var watched = objectRequest(1, cls: "shop", num: [1: "state"])
                watched.object.event = Self.funcTriggers(["touch", "fail", "down"])
                _ = try await t.service.set(watched, context: ctx)
                _ = try await t.service.set(objectRequest(2, cls: "shop"), context: ctx)
                let invoker = FunctionInvoker(node: node, pool: pool, observer: FunctionTriggers(node: node, logger: Logger(label: "t")),
                                              logger: Logger(label: "t"))
                let sink = RecordingInvoker()
                try await withDispatcher(node, sink) { dispatcher in
                    let ok = try await invoker.invokeObj(objCall("touch", id: 1, payload: "hello"), context: CallContext(triggerDepth: 2))
                    #expect(ok.status == .okay)
                    _ = try await drained(dispatcher, sink, calls: 1)
                    let failed = try await invoker.invokeObj(objCall("fail", id: 1, payload: "req-1"), context: ctx)
                    #expect(failed.status == .appError)
                    _ = try await drained(dispatcher, sink, calls: 2)
                    let down = try await invoker.invokeObj(objCall("down", id: 1, payload: "req-2"), context: ctx)
                    #expect(down.status == .systemError)
                    // Neither a stateless call nor an object without triggers fires anything.
                    _ = try await invoker.invokeFn(fnCall("echo", payload: "x"), context: ctx)
                    _ = try await invoker.invokeObj(objCall("touch", id: 2, payload: "y"), context: ctx)
                    let calls = try await drained(dispatcher, sink, calls: 3)
                    try await Task.sleep(for: .milliseconds(50))
                    #expect(sink.calls.count == 3)
                    #expect(calls.map(\.fn) == ["done-touch", "failed-fail", "failed-down"])

                    let complete = try calls[0].jsonPayload()
                    #expect(complete.eventInfo.eventType == .funcComplete && complete.eventInfo.fnID == "touch")
                    #expect(complete.eventInfo.sourceObjectID == 1 && complete.eventInfo.sourceClsID == "shop")
                    #expect(String(decoding: complete.originalPayload, as: UTF8.self) == "hello")
                    #expect(complete.eventInfo.context["invocation_id"] == ok.invocationID)
                    #expect(complete.eventInfo.context["object_version"] == "1")
                    #expect(calls[0].context.triggerDepth == 3 && calls[0].objectID == nil)

                    let appError = try calls[1].jsonPayload()
                    #expect(appError.eventInfo.eventType == .funcError && appError.eventInfo.fnID == "fail")
                    #expect(String(decoding: appError.originalPayload, as: UTF8.self) == "req-1")
                    #expect(appError.eventInfo.context["error"]?.hasPrefix("APP_ERROR") == true)
                    #expect(calls[1].objectID == .numeric(77) && calls[1].context.triggerDepth == 1)

                    let systemError = try calls[2].jsonPayload()
                    #expect(systemError.eventInfo.eventType == .funcError)
                    #expect(String(decoding: systemError.originalPayload, as: UTF8.self) == "req-2")
                    #expect(systemError.eventInfo.context["error"]?.hasPrefix("SYSTEM_ERROR") == true)
                }
            }
        }
    }

    @Test func failuresBeforeAResponseFireOnError() async throws {
        let h = EventHarness()
        let (node, service) = try h.open()
        _ = try await service.set(objectRequest(str: "obj", event: Self.funcTriggers(["m"])), context: ctx)
        let observer = FunctionTriggers(node: node, logger: Logger(label: "t"))
        var request = Oprc_ObjectInvocationRequest()
        request.clsID = "cls"
        request.objectIDStr = "obj"
        request.fnID = "m"
        request.payload = Data("p".utf8)
        request.options[MetadataKeys.invocationID] = "inv-1"
        await observer.objectInvocationFinished(request, result: .failure(OaaSError(.deadlineExceeded, "too slow")), context: ctx)
        let sink = RecordingInvoker()
        try await withDispatcher(node, sink) { dispatcher in
            let calls = try await drained(dispatcher, sink, calls: 1)
            let payload = try calls[0].jsonPayload()
            #expect(calls[0].fn == "failed-m")
            #expect(payload.eventInfo.sourceObjectIDStr == "obj" && payload.eventInfo.context["invocation_id"] == "inv-1")
            #expect(payload.eventInfo.context["error"] == "DEADLINE_EXCEEDED: too slow")
        }
    }

    @Test func functionTriggersRespectTheDepthLimit() async throws {
        let h = EventHarness { $0.maxTriggerDepth = 3 }
        let (node, service) = try h.open()
        _ = try await service.set(objectRequest(4, event: Self.funcTriggers(["m"])), context: ctx)
        let observer = FunctionTriggers(node: node, logger: Logger(label: "t"))
        var request = Oprc_ObjectInvocationRequest()
        request.clsID = "cls"
        request.objectID = 4
        request.fnID = "m"
        await observer.objectInvocationFinished(request, result: .success(fakeResponse("r")), context: CallContext(triggerDepth: 3))
        let dispatcher = TriggerDispatcher(node: node, invoker: RecordingInvoker(), logger: Logger(label: "t"))
        #expect(try dispatcher.pendingCount() == 0)
        #expect(h.count("odgm_trigger_depth_exceeded_total") == 1)
        await observer.objectInvocationFinished(request, result: .success(fakeResponse("r")), context: CallContext(triggerDepth: 2))
        #expect(try dispatcher.pendingCount() == 1)
    }
}
