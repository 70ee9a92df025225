import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSCore
import OaaSProto
import Testing

@testable import Gateway

/// The gateway's gRPC ingress for `oprc.OprcFunction` and `oaas.invocation.AsyncInvocation`
/// (spec §8.7): the same validation and deadline rule as REST, over real loopback gRPC.
@Suite("gRPC invoke ingress")
struct RESTInvokeIngressTests {
    private func withIngress(
        config: GatewayConfig = GatewayConfig(),
        invoker: FakeInvoker = FakeInvoker(),
        asyncInvoker: FakeAsyncInvoker = FakeAsyncInvoker(),
        _ body: (RemoteInvoker<HTTP2ClientTransport.Posix>, RemoteAsyncInvoker<HTTP2ClientTransport.Posix>) async throws -> Void
    ) async throws {
        let services: [any RegistrableRPCService] = [
            FunctionServiceAdapter(invoker: GatewayInvoker(upstream: invoker, config: config, metricsFactory: TestMetrics())),
            AsyncInvocationAdapter(invoker: GatewayAsyncInvoker(upstream: asyncInvoker, config: config, metricsFactory: TestMetrics())),
        ]
        let server = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        try await withGRPCServer(transport: server, services: services) { _ in
            let port = try #require(try await server.listeningAddress.ipv4?.port)
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                try await body(RemoteInvoker(client: client), RemoteAsyncInvoker(client: client))
            }
        }
    }

    private func call(_ fn: String, cls: String = "users") -> Oprc_InvocationRequest {
        var request = Oprc_InvocationRequest()
        request.clsID = cls
        request.fnID = fn
        request.payload = Data("p".utf8)
        return request
    }

    private func thrown(_ body: () async throws -> Void) async -> OaaSError? {
        do {
            try await body()
            return nil
        } catch {
            return OaaSError.from(error)
        }
    }

    @Test func validatesAndForwardsWithTheClientsDeadline() async throws {
        let invoker = FakeInvoker()
        try await withIngress(invoker: invoker) { remote, _ in
            let clientDeadline = ContinuousClock.now + .seconds(3)
            let echo = try await remote.invokeFn(call("echo"), context: CallContext(traceparent: "00-a-b-01", deadline: clientDeadline))
            #expect(echo.payload == Data("p".utf8))
            let forwarded = try #require(invoker.last?.context)
            #expect(forwarded.traceparent == "00-a-b-01")
            // grpc-timeout carries the remaining time, which the server counts from when the call
            // arrives (after the connection was set up): close to, not exactly, the client's deadline.
            let deadline = try #require(forwarded.deadline)
            #expect(deadline < clientDeadline + .seconds(1) && deadline > clientDeadline - .seconds(1))

            #expect(await thrown { _ = try await remote.invokeFn(call("echo", cls: ""), context: CallContext()) } == OaaSError(.invalidArgument, "cls_id required"))
            #expect(await thrown { _ = try await remote.invokeFn(call(""), context: CallContext()) } == OaaSError(.invalidArgument, "fn_id required"))
            var bad = Oprc_ObjectInvocationRequest()
            bad.clsID = "users"
            bad.fnID = "touch"
            #expect(await thrown { _ = try await remote.invokeObj(bad, context: CallContext()) }?.code == .invalidObjectId)
            #expect(invoker.calls.count == 1)
        }
    }

    @Test func withoutAClientDeadlineRequestTimeoutApplies() async throws {
        let invoker = FakeInvoker { call in
            try await Task.sleep(for: .seconds(30))
            return try await FakeInvoker.echo(call)
        }
        try await withIngress(config: GatewayConfig(requestTimeout: .milliseconds(150)), invoker: invoker) { remote, _ in
            let start = ContinuousClock.now
            let error = await thrown { _ = try await remote.invokeFn(call("slow"), context: CallContext()) }
            #expect(error?.code == .deadlineExceeded)
            #expect(ContinuousClock.now - start < .seconds(15))  // the deadline fired, not the 30 s of the slow side
        }
    }

    @Test func asyncCallsCrossTheIngress() async throws {
        let asyncInvoker = FakeAsyncInvoker()
        try await withIngress(asyncInvoker: asyncInvoker) { _, remote in
            var submit = Oaas_Invocation_SubmitRequest()
            submit.fn = call("echo")
            submit.invocationID = "job-1"
            let accepted = try await remote.submit(submit, context: CallContext())
            #expect(accepted.invocationID == "job-1")
            submit.invocationID = "not valid!"
            let invalid = submit
            let refused = await thrown { _ = try await remote.submit(invalid, context: CallContext()) }
            #expect(refused?.code == .invalidArgument)
            var query = Oaas_Invocation_GetResultRequest()
            query.clsID = "users"
            query.fnID = "echo"
            query.invocationID = "job-1"
            #expect(await thrown { _ = try await remote.getResult(query, context: CallContext()) }?.code == .noInvocation)
            #expect(asyncInvoker.submitted.count == 1)
        }
    }
}
