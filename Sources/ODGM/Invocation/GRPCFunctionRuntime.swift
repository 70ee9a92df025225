import GRPCCore
import OaaSProto

/// Calls an external function runtime over `oprc.OprcFunction` (data-plane spec §10) through a
/// pooled client. Failures are thrown as they come; ``InvocationOutcome`` maps them.
struct GRPCFunctionRuntime: Sendable {
    let pool: RuntimeClientPool

    func invoke(_ call: RuntimeCall, target: GRPCRuntimeTarget, settings: RuntimePoolSettings) async throws -> Oprc_InvocationResponse {
        try await pool.withClient(target, settings: settings) { client in
            let functions = Oprc_OprcFunction.Client(wrapping: client)
            switch call.request {
            case .fn(let request):
                return try await functions.invokeFn(request: ClientRequest(message: request, metadata: call.metadata), options: call.callOptions)
            case .obj(let request):
                return try await functions.invokeObj(request: ClientRequest(message: request, metadata: call.metadata), options: call.callOptions)
            }
        }
    }
}
