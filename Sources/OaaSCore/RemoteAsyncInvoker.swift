import GRPCCore
import OaaSProto

/// An ``AsyncInvoker`` on the other end of a gRPC connection (an ODGM node, or a gateway).
public struct RemoteAsyncInvoker<Transport: ClientTransport>: AsyncInvoker {
    public let client: Oaas_Invocation_AsyncInvocation.Client<Transport>

    public init(client: GRPCClient<Transport>) {
        self.client = Oaas_Invocation_AsyncInvocation.Client(wrapping: client)
    }

    public func submit(_ request: Oaas_Invocation_SubmitRequest, context: CallContext) async throws -> Oaas_Invocation_SubmitResponse {
        try await mapped {
            try await client.submit(request: ClientRequest(message: request, metadata: context.metadata), options: context.invocationCallOptions)
        }
    }

    public func getResult(_ request: Oaas_Invocation_GetResultRequest, context: CallContext) async throws -> Oaas_Invocation_GetResultResponse {
        try await mapped {
            try await client.getResult(request: ClientRequest(message: request, metadata: context.metadata), options: context.invocationCallOptions)
        }
    }

    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RPCError {
            throw OaaSError(rpcError: error)
        }
    }
}
