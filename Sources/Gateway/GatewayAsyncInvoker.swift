import Metrics
import OaaSCore
import OaaSProto

/// The gateway's ``AsyncInvoker`` (data-plane spec §5.5): the checks of a sync call plus the
/// client-chosen invocation id, then forwarded to the owning ODGM.
public struct GatewayAsyncInvoker: AsyncInvoker {
    public let upstream: any AsyncInvoker
    private let guardrail: GatewayInvocationGuard

    public init(upstream: any AsyncInvoker, config: GatewayConfig, metricsFactory: (any MetricsFactory)? = nil) {
        self.upstream = upstream
        self.guardrail = GatewayInvocationGuard(config: config, metricsFactory: metricsFactory)
    }

    public func submit(_ request: Oaas_Invocation_SubmitRequest, context: CallContext) async throws -> Oaas_Invocation_SubmitResponse {
        var request = request
        switch request.call {
        case .fn(let call):
            try guardrail.checkTarget(cls: call.clsID, fn: call.fnID)
            try guardrail.checkPayload(call.payload)
        case .obj(var call):
            try guardrail.checkTarget(cls: call.clsID, fn: call.fnID)
            if let normalized = try guardrail.checkID(numeric: call.objectID, string: call.hasObjectIDStr ? call.objectIDStr : nil) {
                call.objectIDStr = normalized
            }
            try guardrail.checkPayload(call.payload)
            request.obj = call
        case nil:
            throw OaaSError(.invalidArgument, "call required: set fn or obj")
        }
        if request.hasInvocationID, let problem = InvocationIDs.problem(request.invocationID) {
            throw OaaSError(.invalidArgument, "invocation_id \(problem)")
        }
        return try await guardrail.forward(context) { [upstream, request] context in try await upstream.submit(request, context: context) }
    }

    public func getResult(_ request: Oaas_Invocation_GetResultRequest, context: CallContext) async throws -> Oaas_Invocation_GetResultResponse {
        var request = request
        try guardrail.checkTarget(cls: request.clsID, fn: request.fnID)
        if request.invocationID.isEmpty { throw OaaSError(.invalidArgument, "invocation_id required") }
        // Object calls name their object; a stateless call has neither id.
        if request.objectID != 0 || request.hasObjectIDStr {
            if let normalized = try guardrail.checkID(numeric: request.objectID, string: request.hasObjectIDStr ? request.objectIDStr : nil) {
                request.objectIDStr = normalized
            }
        }
        return try await guardrail.forward(context) { [upstream, request] context in try await upstream.getResult(request, context: context) }
    }
}
