import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSProto

/// The invocation calls of `invoke` and `result`: `oprc.OprcFunction` and `oaas.invocation.AsyncInvocation`
/// (spec §5). Each call takes its own deadline because `result --watch` shrinks it as time runs out.
/// Errors are `RPCError`s (or ``CLIFailure``s).
protocol InvocationClient: Sendable {
    func invokeFn(_ request: Oprc_InvocationRequest, timeout: Duration) async throws -> Oprc_InvocationResponse
    func invokeObj(_ request: Oprc_ObjectInvocationRequest, timeout: Duration) async throws -> Oprc_InvocationResponse
    func submit(_ request: Oaas_Invocation_SubmitRequest, timeout: Duration) async throws -> Oaas_Invocation_SubmitResponse
    func getResult(_ request: Oaas_Invocation_GetResultRequest, timeout: Duration) async throws -> Oaas_Invocation_GetResultResponse
}

/// ``InvocationClient`` over grpc-swift's generated clients, sharing one connection.
struct GRPCInvocationClient<Transport: ClientTransport>: InvocationClient {
    let functions: Oprc_OprcFunction.Client<Transport>
    let async: Oaas_Invocation_AsyncInvocation.Client<Transport>

    init(client: GRPCClient<Transport>) {
        functions = Oprc_OprcFunction.Client(wrapping: client)
        async = Oaas_Invocation_AsyncInvocation.Client(wrapping: client)
    }

    func invokeFn(_ request: Oprc_InvocationRequest, timeout: Duration) async throws -> Oprc_InvocationResponse {
        try await functions.invokeFn(request: ClientRequest(message: request), options: Self.options(timeout)) { try $0.message }
    }

    func invokeObj(_ request: Oprc_ObjectInvocationRequest, timeout: Duration) async throws -> Oprc_InvocationResponse {
        try await functions.invokeObj(request: ClientRequest(message: request), options: Self.options(timeout)) { try $0.message }
    }

    func submit(_ request: Oaas_Invocation_SubmitRequest, timeout: Duration) async throws -> Oaas_Invocation_SubmitResponse {
        try await async.submit(request: ClientRequest(message: request), options: Self.options(timeout)) { try $0.message }
    }

    func getResult(_ request: Oaas_Invocation_GetResultRequest, timeout: Duration) async throws -> Oaas_Invocation_GetResultResponse {
        try await async.getResult(request: ClientRequest(message: request), options: Self.options(timeout)) { try $0.message }
    }

    /// The deadline travels as `grpc-timeout`; the gateway takes the smaller of it and its own (spec §5.4).
    private static func options(_ timeout: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        // Fail fast when the gateway is down instead of queueing until the deadline.
        options.waitForReady = false
        return options
    }
}

extension GatewayConnection {
    /// Opens a plaintext HTTP/2 connection to the gateway for the duration of `body`.
    static func withInvocations<Result: Sendable>(
        _ endpoint: GatewayEndpoint,
        _ body: (any InvocationClient) async throws -> Result
    ) async throws -> Result {
        try await withClient(endpoint) { grpc in
            try await body(GRPCInvocationClient(client: grpc))
        }
    }
}
