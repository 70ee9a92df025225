import Foundation
import ODGM
import OaaSCore
import OaaSProto
import Testing

/// Data-plane spec §5.2 step 2: the checks before a runtime is called, in order.
@Suite struct InvocationDispatchTests {
    @Test func unknownClassPartitionAndFunction() async throws {
        try await InvocationHarness.run { h in
            let noClass = await invocationError { _ = try await h.invoker.invokeFn(fnCall("echo", cls: "nope"), context: CallContext()) }
            #expect(noClass == OaaSError(.noClass, "class 'nope' not found"))
            let noPartition = await invocationError { _ = try await h.invoker.invokeFn(fnCall("echo", partition: 2), context: CallContext()) }
            #expect(noPartition == OaaSError(.noPartition, "partition 2 not found in class 'shop' (partition_count 2)"))
            let noFunction = await invocationError { _ = try await h.invoker.invokeFn(fnCall("missing"), context: CallContext()) }
            #expect(noFunction == OaaSError(.noFunction, "function 'missing' not found in class 'shop'"))
            // Object calls check the same things.
            let objNoFunction = await invocationError { _ = try await h.invoker.invokeObj(objCall("missing", id: 1), context: CallContext()) }
            #expect(objNoFunction?.code == .noFunction)
            #expect(h.runtime.calls.isEmpty)
        }
    }

    @Test func disabledFunctionIsCheckedFirst() async throws {
        try await InvocationHarness.run(extraRoutes: ["off": fnRoute("")]) { h in
            let error = await invocationError { _ = try await h.invoker.invokeFn(fnCall("off"), context: CallContext()) }
            #expect(error?.code == .functionDisabled)
            #expect(error?.rpcCode == .failedPrecondition)
            #expect(error?.message == "function 'off' is disabled in class 'shop'")
            // Disabled also without a route, and for object calls.
            let obj = await invocationError { _ = try await h.invoker.invokeObj(objCall("off", id: 1), context: CallContext()) }
            #expect(obj?.code == .functionDisabled)
        }
    }

    @Test func statelessMismatchNamesTheRightRPC() async throws {
        try await InvocationHarness.run { h in
            let fnOnMethod = await invocationError { _ = try await h.invoker.invokeFn(fnCall("touch"), context: CallContext()) }
            #expect(fnOnMethod?.code == .invalidArgument)
            #expect(fnOnMethod?.message.contains("InvokeObj") == true)
            let objOnStateless = await invocationError { _ = try await h.invoker.invokeObj(objCall("echo", id: 1), context: CallContext()) }
            #expect(objOnStateless?.code == .invalidArgument)
            #expect(objOnStateless?.message.contains("InvokeFn") == true)
            #expect(h.runtime.calls.isEmpty)
        }
    }

    @Test func shapeAndIdsAreValidatedBeforeTheClass() async throws {
        try await InvocationHarness.run { h in
            #expect(await invocationError { _ = try await h.invoker.invokeFn(fnCall("echo", cls: ""), context: CallContext()) }
                == OaaSError(.invalidArgument, "cls_id required"))
            #expect(await invocationError { _ = try await h.invoker.invokeFn(fnCall(""), context: CallContext()) }
                == OaaSError(.invalidArgument, "fn_id required"))
            // Neither id, both ids, a bad string id: INVALID_OBJECT_ID even for an unknown class.
            #expect(await invocationError { _ = try await h.invoker.invokeObj(objCall("touch", cls: "nope"), context: CallContext()) }?.code == .invalidObjectId)
            #expect(await invocationError { _ = try await h.invoker.invokeObj(objCall("touch", id: 4, str: "a"), context: CallContext()) }?.code == .invalidObjectId)
            let bad = await invocationError { _ = try await h.invoker.invokeObj(objCall("touch", str: "Bad$"), context: CallContext()) }
            #expect(bad?.message == "object_id_str contains invalid character '$' at offset 3; allowed [a-z0-9.:-]")
        }
    }

    @Test func wasmAndUnusableURLsAreSystemErrors() async throws {
        try await InvocationHarness.run { h in
            let wasm = try await h.invoker.invokeFn(fnCall("wasm-fn"), context: CallContext(invocationID: "w1"))
            #expect(wasm.status == .systemError)
            #expect(payloadText(wasm) == "wasm runtime not available")
            #expect(wasm.invocationID == "w1")
            let nohost = try await h.invoker.invokeFn(fnCall("nohost"), context: CallContext())
            #expect(nohost.status == .systemError)
            #expect(payloadText(nohost).contains("no valid host"))
        }
    }

    @Test func invokeOnlyPrimaryAndActiveGroupAllowTheLocalPrimary() async throws {
        // One replica per partition: shard ids 1 and 2, both primary and hosted here.
        try await InvocationHarness.run(options: ["invoke_only_primary": "true"], extraRoutes: [
            "grouped": fnRoute("http://127.0.0.1:1", activeGroup: [1]),
        ]) { h in
            let primary = try await h.invoker.invokeFn(fnCall("echo", payload: "p"), context: CallContext())
            #expect(payloadText(primary) == "p")
            // Partition 1 (shard 2) is not in the active group of `grouped`.
            let outside = await invocationError { _ = try await h.invoker.invokeFn(fnCall("grouped", partition: 1), context: CallContext()) }
            #expect(outside?.code == .unavailable)
            // Partition 0 (shard 1) is: it executes (and finds the runtime down).
            let inside = try await h.invoker.invokeFn(fnCall("grouped", partition: 0), context: CallContext())
            #expect(inside.status == .systemError)
        }
    }
}
