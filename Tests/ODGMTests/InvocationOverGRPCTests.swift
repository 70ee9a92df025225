import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ODGM
import OaaSCore
import OaaSProto
import Testing

/// ODGM as a standalone node serves it: a client's `RemoteInvoker` → `FunctionServiceAdapter`
/// over real loopback gRPC → `FunctionInvoker` → the fake runtime.
@Suite struct InvocationOverGRPCTests {
    @Test func invocationsAndErrorsCrossTheWire() async throws {
        try await InvocationHarness.run { h in
            try await withLoopbackServer([FunctionServiceAdapter(invoker: h.invoker)]) { port in
                let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
                try await withGRPCClient(transport: transport) { client in
                    let remote = RemoteInvoker(client: client)
                    let context = CallContext(triggerDepth: 1, traceparent: "00-t-s-01", deadline: .now + .seconds(5), invocationID: "wire-1")
                    let echo = try await remote.invokeFn(fnCall("echo", payload: "over the wire"), context: context)
                    #expect(payloadText(echo) == "over the wire")
                    #expect(echo.invocationID == "wire-1")
                    #expect(h.runtime.last?.metadata["oaas-trigger-depth"] == "1")
                    #expect(h.runtime.last?.metadata["traceparent"] == "00-t-s-01")

                    let object = try await remote.invokeObj(objCall("touch", str: "Cart-1"), context: CallContext())
                    #expect(object.status == .okay)
                    #expect(h.runtime.last?.obj?.objectIDStr == "cart-1")

                    // Errors keep their REST code across the hop.
                    let missing = await invocationError { _ = try await remote.invokeFn(fnCall("missing"), context: CallContext()) }
                    #expect(missing == OaaSError(.noFunction, "function 'missing' not found in class 'shop'"))
                    let disabled = await invocationError { _ = try await remote.invokeFn(fnCall("off"), context: CallContext()) }
                    #expect(disabled?.code == .functionDisabled)

                    // The caller's deadline travels as grpc-timeout and bounds the runtime call.
                    let start = ContinuousClock.now
                    let slow = await invocationError {
                        _ = try await remote.invokeFn(fnCall("slow"), context: CallContext(deadline: .now + .milliseconds(300)))
                    }
                    #expect(slow?.code == .deadlineExceeded)
                    #expect(ContinuousClock.now - start < .seconds(15))  // the deadline fired, not the 30 s of the slow side
                    let timeout = try #require(h.runtime.last?.metadata["grpc-timeout"])
                    let forwarded = try #require(GRPCTimeout.parse(timeout))
                    #expect(forwarded <= .milliseconds(300))
                }
            }
        }
    }

    @Test func adapterReadsTheDeadlineFromGRPCTimeout() {
        var metadata = Metadata()
        metadata.addString("1500m", forKey: "grpc-timeout")
        metadata.addString("3", forKey: "oaas-trigger-depth")
        let now = ContinuousClock.now
        let context = CallContext(incoming: metadata, now: now)
        #expect(context.deadline == now + .milliseconds(1500))
        #expect(context.triggerDepth == 3)
        #expect(CallContext(incoming: Metadata()).deadline == nil)
    }
}
