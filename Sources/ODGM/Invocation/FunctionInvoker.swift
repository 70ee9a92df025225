import Logging
import Metrics
import OaaSCore
import OaaSProto

/// ODGM's ``Invoker``: checks a call against the collection's function routes (data-plane spec
/// §5.2), adds the options and metadata of §5.4 and runs it on the function's runtime, an
/// `oprc.OprcFunction` server or an in-process WASM module. ODGM never loads or sends object
/// state; the function uses DataService itself.
///
/// Outcomes follow the §5.2 table: a runtime's answer passes through (with `invocation_id` filled
/// in), its gRPC error is APP_ERROR, an unreachable runtime is SYSTEM_ERROR, and only bad requests,
/// unknown class/partition/function and deadline expiry are thrown.
public struct FunctionInvoker: Invoker {
    public let node: ODGMNode
    private let settings: InvocationSettings
    private let grpc: GRPCFunctionRuntime
    private let wasm: any WasmFunctionRunner
    private let observer: (any InvocationObserver)?
    private let rules: IdentityRules
    private let metrics: InvocationMetrics
    private let logger: Logger

    public init(
        node: ODGMNode,
        pool: RuntimeClientPool,
        settings: InvocationSettings = InvocationSettings(),
        wasm: any WasmFunctionRunner = UnavailableWasmRunner(),
        observer: (any InvocationObserver)? = nil,
        metricsFactory: (any MetricsFactory)? = nil,
        logger: Logger
    ) {
        self.node = node
        self.settings = settings
        self.grpc = GRPCFunctionRuntime(pool: pool)
        self.wasm = wasm
        self.observer = observer
        self.rules = IdentityRules(maxStringIdLength: node.config.maxStringIdLength)
        self.metrics = InvocationMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        self.logger = logger
    }

    public func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try Self.checkShape(cls: request.clsID, fn: request.fnID)
        let route = try FunctionRoute(node: node, cls: request.clsID, partition: request.partitionID, fn: request.fnID, stateless: true)
        let call = RuntimeCall(.fn(request), context: context, defaultTimeout: settings.invokeTimeout)
        return try await execute(call, route: route).get()
    }

    public func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try Self.checkShape(cls: request.clsID, fn: request.fnID)
        var request = request
        switch try rules.objectID(numeric: request.objectID, string: request.hasObjectIDStr ? request.objectIDStr : nil) {
        case .numeric: request.clearObjectIDStr()
        case .string(let normalized): request.objectIDStr = normalized
        }
        let route = try FunctionRoute(node: node, cls: request.clsID, partition: request.partitionID, fn: request.fnID, stateless: false)
        let call = RuntimeCall(.obj(request), context: context, defaultTimeout: settings.invokeTimeout)
        let result = await execute(call, route: route)
        if let observer, case .obj(let sent) = call.request {
            await observer.objectInvocationFinished(sent, result: result, context: context)
        }
        return try result.get()
    }

    private static func checkShape(cls: String, fn: String) throws(OaaSError) {
        if cls.isEmpty { throw OaaSError(.invalidArgument, "cls_id required") }
        if fn.isEmpty { throw OaaSError(.invalidArgument, "fn_id required") }
    }

    // MARK: Dispatch

    /// Runs the call on its runtime and records it; never throws, so the observer sees failures.
    private func execute(_ call: RuntimeCall, route: FunctionRoute) async -> Result<Oprc_InvocationResponse, OaaSError> {
        let start = ContinuousClock.now
        if call.deadline <= start {
            return .failure(OaaSError(.deadlineExceeded, "deadline expired before function '\(route.fn)' was called"))
        }
        let result: Result<Oprc_InvocationResponse, OaaSError>
        do {
            var response = try await runtimeResponse(call, route: route)
            if response.invocationID.isEmpty { response.invocationID = call.invocationID }
            result = .success(response)
        } catch {
            result = .failure(error)
        }
        let status = switch result {
        case .success(let response): response.status.name
        case .failure(let error): error.rpcCodeName
        }
        metrics.record(cls: route.cls, fn: route.fn, owner: route.owner, status: status, elapsed: ContinuousClock.now - start)
        if case .failure(let error) = result {
            logger.debug("invocation failed", metadata: ["cls": "\(route.cls)", "fn": "\(route.fn)", "invocation_id": "\(call.invocationID)", "error": "\(error)"])
        }
        return result
    }

    /// The runtime's response, or the §5.2 mapping of its failure.
    private func runtimeResponse(_ call: RuntimeCall, route: FunctionRoute) async throws(OaaSError) -> Oprc_InvocationResponse {
        let endpoint: RuntimeEndpoint
        switch route.endpoint {
        case .success(let parsed): endpoint = parsed
        case .failure(let invalid): return InvocationOutcome.systemError(invalid.description)
        }
        do {
            switch endpoint {
            case .grpc(let target):
                return try await grpc.invoke(call, target: target, settings: route.pool)
            case .wasm(let key):
                return try await wasm.invoke(call, functionKey: key, route: route.route)
            }
        } catch {
            return try InvocationOutcome.response(for: error, deadline: call.deadline, runtime: route.route.url)
        }
    }
}
