import GRPCCore
import OaaSProto

/// Serves `oaas.invocation.AsyncInvocation` over gRPC from any ``AsyncInvoker`` (spec §5.5), with
/// the call context and deadline read from the metadata as ``FunctionServiceAdapter`` does.
public struct AsyncInvocationAdapter: Oaas_Invocation_AsyncInvocation.ServiceProtocol {
    public let invoker: any AsyncInvoker

    public init(invoker: any AsyncInvoker) {
        self.invoker = invoker
    }

    public func submit(request: ServerRequest<Oaas_Invocation_SubmitRequest>, context: ServerContext) async throws -> ServerResponse<Oaas_Invocation_SubmitResponse> {
        do {
            let call = CallContext(incoming: request.metadata)
            return ServerResponse(message: try await invoker.submit(request.message, context: call))
        } catch {
            throw OaaSError.from(error).rpcError
        }
    }

    public func getResult(request: ServerRequest<Oaas_Invocation_GetResultRequest>, context: ServerContext) async throws -> ServerResponse<Oaas_Invocation_GetResultResponse> {
        do {
            let call = CallContext(incoming: request.metadata)
            return ServerResponse(message: try await invoker.getResult(request.message, context: call))
        } catch {
            throw OaaSError.from(error).rpcError
        }
    }
}
