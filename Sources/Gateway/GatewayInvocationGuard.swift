import Metrics
import OaaSCore
import OaaSProto

/// What the gateway checks on every invocation before forwarding it, REST or gRPC alike: the
/// shape, ids (spec §1.1 with the gateway's length limit, counted in `gateway_string_id_*`), the
/// payload size (MAX_PAYLOAD_BYTES → PAYLOAD_TOO_LARGE) and the deadline; failed upstream calls
/// are counted in `gateway_upstream_errors_total`.
struct GatewayInvocationGuard: Sendable {
    let config: GatewayConfig
    private let rules: IdentityRules
    let metrics: GatewayStoreMetrics

    init(config: GatewayConfig, metricsFactory: (any MetricsFactory)?) {
        self.config = config
        self.rules = IdentityRules(maxStringIdLength: config.maxStringIdLength)
        self.metrics = GatewayStoreMetrics(factory: metricsFactory ?? MetricsSystem.factory)
    }

    func checkTarget(cls: String, fn: String) throws(OaaSError) {
        if cls.isEmpty { throw OaaSError(.invalidArgument, "cls_id required") }
        if fn.isEmpty { throw OaaSError(.invalidArgument, "fn_id required") }
    }

    func checkPayload(_ payload: some Collection<UInt8>) throws(OaaSError) {
        if payload.count > config.maxPayloadBytes {
            throw OaaSError(.payloadTooLarge, "payload of \(payload.count) bytes exceeds MAX_PAYLOAD_BYTES (\(config.maxPayloadBytes) bytes)")
        }
    }

    /// Validates the id pair and returns the normalized string id (nil for a numeric id).
    func checkID(numeric: UInt64, string: String?) throws(OaaSError) -> String? {
        if string != nil { metrics.stringIdAttempts.increment() }
        do {
            switch try rules.objectID(numeric: numeric, string: string) {
            case .numeric: return nil
            case .string(let normalized): return normalized
            }
        } catch {
            if string != nil { metrics.stringIdRejected.increment() }
            throw error
        }
    }

    /// Forwards under the gateway's deadline, which replaces the one in `context`.
    func forward<T: Sendable>(_ context: CallContext, _ body: @escaping @Sendable (CallContext) async throws -> T) async throws -> T {
        var context = context
        let deadline = GatewayDeadline.effective(context.deadline, config: config)
        context.deadline = deadline
        do {
            return try await GatewayDeadline.race(deadline) { [context] in try await body(context) }
        } catch {
            let failure = OaaSError.from(error)
            metrics.upstreamErrors[failure.code]?.increment()
            throw failure
        }
    }
}
