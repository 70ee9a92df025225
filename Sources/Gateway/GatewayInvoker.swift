import Metrics
import OaaSCore
import OaaSProto

/// The gateway's ``Invoker`` (data-plane spec §5.2 step 1): validates the call and forwards it to
/// the ODGM that owns the partition (in-process, or remote). Both the REST routes and the gRPC
/// ingress use it, so validation and metrics see every call once.
///
/// There is one upstream per gateway today (the in-process ODGM or DEFAULT_ODGM_URL); ODGM
/// enforces `invoke_only_primary` and active groups. Choosing among shards arrives with the
/// router's table.
public struct GatewayInvoker: Invoker {
    public let upstream: any Invoker
    private let guardrail: GatewayInvocationGuard

    public init(upstream: any Invoker, config: GatewayConfig, metricsFactory: (any MetricsFactory)? = nil) {
        self.upstream = upstream
        self.guardrail = GatewayInvocationGuard(config: config, metricsFactory: metricsFactory)
    }

    public func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try guardrail.checkTarget(cls: request.clsID, fn: request.fnID)
        try guardrail.checkPayload(request.payload)
        return try await guardrail.forward(context) { [upstream] context in try await upstream.invokeFn(request, context: context) }
    }

    public func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        var request = request
        try guardrail.checkTarget(cls: request.clsID, fn: request.fnID)
        if let normalized = try guardrail.checkID(numeric: request.objectID, string: request.hasObjectIDStr ? request.objectIDStr : nil) {
            request.objectIDStr = normalized
        }
        try guardrail.checkPayload(request.payload)
        return try await guardrail.forward(context) { [upstream, request] context in try await upstream.invokeObj(request, context: context) }
    }
}
