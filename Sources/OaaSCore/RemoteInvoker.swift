import GRPCCore
import OaaSProto

/// An ``Invoker`` on the other end of a gRPC connection (an ODGM node, or a gateway). The call
/// context travels as metadata and the remaining deadline as `grpc-timeout`; statuses come back
/// as ``OaaSError``s with the REST code the server attached.
public struct RemoteInvoker<Transport: ClientTransport>: Invoker {
    public let client: Oprc_OprcFunction.Client<Transport>

    public init(client: GRPCClient<Transport>) {
        self.client = Oprc_OprcFunction.Client(wrapping: client)
    }

    public func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await mapped {
            try await client.invokeFn(request: ClientRequest(message: request, metadata: context.metadata), options: context.invocationCallOptions)
        }
    }

    public func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await mapped {
            try await client.invokeObj(request: ClientRequest(message: request, metadata: context.metadata), options: context.invocationCallOptions)
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

extension CallContext {
    /// ``callOptions`` without a message size limit: payloads are opaque and bounded where they
    /// enter the platform (the gateway's MAX_PAYLOAD_BYTES), and a function's result is not bounded
    /// at all (spec §5.2).
    public var invocationCallOptions: CallOptions {
        var options = callOptions
        options.maxRequestMessageBytes = Int.max
        options.maxResponseMessageBytes = Int.max
        return options
    }
}
