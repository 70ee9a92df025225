import OaaSCore
import OaaSProto

/// An ``Invoker`` that sends each call to a ready ODGM shard of its partition (spec §5.2 step 1): the primary
/// with `invoke_only_primary`, else the nearest ready replica. Invocations are not idempotent, so only a call
/// whose route turned out stale is retried.
public struct RoutingInvoker: Invoker {
    let calls: RoutedCalls

    public init(routes: any RouteSource, nodes: any NodeConnector, fallback: String? = nil, config: GatewayConfig) {
        calls = RoutedCalls(resolver: RouteResolver(routes: routes, fallback: fallback, env: config.envName), nodes: nodes,
                            retryAttempts: config.retryAttempts, retryBackoff: config.retryBackoff)
    }

    public func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await calls.run(request.clsID, request.partitionID, .invocation, idempotent: false, context: context) {
            try await $0.invoker.invokeFn(request, context: context)
        }
    }

    public func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await calls.run(request.clsID, request.partitionID, .invocation, idempotent: false, context: context) {
            try await $0.invoker.invokeObj(request, context: context)
        }
    }
}

/// An ``AsyncInvoker`` routed like ``RoutingInvoker``. A submit is recorded in the partition's data, so it goes
/// to the data owner; GetResult is an idempotent read and is retried.
public struct RoutingAsyncInvoker: AsyncInvoker {
    let calls: RoutedCalls

    public init(routes: any RouteSource, nodes: any NodeConnector, fallback: String? = nil, config: GatewayConfig) {
        calls = RoutedCalls(resolver: RouteResolver(routes: routes, fallback: fallback, env: config.envName), nodes: nodes,
                            retryAttempts: config.retryAttempts, retryBackoff: config.retryBackoff)
    }

    public func submit(_ request: Oaas_Invocation_SubmitRequest, context: CallContext) async throws -> Oaas_Invocation_SubmitResponse {
        let (clsID, partitionID): (String, UInt32) = switch request.call {
        case .fn(let call): (call.clsID, call.partitionID)
        case .obj(let call): (call.clsID, call.partitionID)
        case nil: throw OaaSError(.invalidArgument, "call required: set fn or obj")
        }
        return try await calls.run(clsID, partitionID, .data, idempotent: false, context: context) {
            try await $0.asyncInvoker.submit(request, context: context)
        }
    }

    public func getResult(_ request: Oaas_Invocation_GetResultRequest, context: CallContext) async throws -> Oaas_Invocation_GetResultResponse {
        try await calls.run(request.clsID, request.partitionID, .data, idempotent: true, context: context) {
            try await $0.asyncInvoker.getResult(request, context: context)
        }
    }
}
