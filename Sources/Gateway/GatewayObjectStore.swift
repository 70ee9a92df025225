import Metrics
import OaaSCore
import OaaSProto

/// The gateway's view of the data plane: validates and normalizes object ids (spec §1.1, all rules
/// but `enabled`, with the gateway's own length limit) and forwards to the upstream store (the
/// ODGM in this process, or a remote one). Both the REST routes and the gRPC ingress use it, so the
/// `gateway_string_id_*` counters see every request exactly once.
///
/// Idempotent reads that fail with UNAVAILABLE (the call never reached a serving ODGM) are retried
/// `retryAttempts` times; writes never are. A call past its deadline answers DEADLINE_EXCEEDED.
public struct GatewayObjectStore: ObjectStore {
    public let upstream: any ObjectStore
    /// Id rules and counters shared with the invocation path, so both count the same way.
    private let checks: GatewayInvocationGuard
    private let retryAttempts: Int
    private let retryBackoff: Duration

    public init(upstream: any ObjectStore, config: GatewayConfig, metricsFactory: (any MetricsFactory)? = nil) {
        self.upstream = upstream
        self.checks = GatewayInvocationGuard(config: config, metricsFactory: metricsFactory)
        self.retryAttempts = max(0, config.retryAttempts)
        self.retryBackoff = config.retryBackoff
    }

    // MARK: ObjectStore

    public func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        var request = request
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await read(context) { [request] in try await upstream.get(request, context: context) }
    }

    public func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64 {
        var request = request
        if !request.hasObject { throw OaaSError(.invalidArgument, "object required") }
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await write(context) { [request] in try await upstream.set(request, context: context) }
    }

    public func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        var request = request
        if !request.hasObject { throw OaaSError(.invalidArgument, "object required") }
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await write(context) { [request] in try await upstream.merge(request, context: context) }
    }

    public func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64 {
        var request = request
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await write(context) { [request] in try await upstream.delete(request, context: context) }
    }

    public func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse {
        var request = request
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await read(context) { [request] in try await upstream.getValue(request, context: context) }
    }

    public func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64 {
        var request = request
        if !request.hasValue { throw OaaSError(.invalidArgument, "value required") }
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await write(context) { [request] in try await upstream.setValue(request, context: context) }
    }

    public func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64 {
        var request = request
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await write(context) { [request] in try await upstream.deleteValue(request, context: context) }
    }

    public func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64 {
        var request = request
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await write(context) { [request] in try await upstream.batchSetValues(request, context: context) }
    }

    public func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage {
        var request = request
        request.objectIDStrIfPresent = try checkID(numeric: request.objectID, string: request.objectIDStrIfPresent)
        return try await read(context) { [request] in try await upstream.listValues(request, context: context) }
    }

    public func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope] {
        try await read(context) { try await upstream.listObjects(request, context: context) }
    }

    public func stats(context: CallContext) async throws -> Oprc_StatsResponse {
        try await read(context) { try await upstream.stats(context: context) }
    }

    public func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse {
        try await read(context) { try await upstream.capabilities(context: context) }
    }

    // MARK: Validation

    /// Applies spec §1.1 to the id pair and returns the normalized string id (nil for numeric ids).
    private func checkID(numeric: UInt64, string: String?) throws(OaaSError) -> String? {
        try checks.checkID(numeric: numeric, string: string)
    }

    // MARK: Forwarding

    private func write<T: Sendable>(_ context: CallContext, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await attempt(context, body)
    }

    /// Runs an idempotent read, retrying UNAVAILABLE while attempts and the deadline allow.
    private func read<T: Sendable>(_ context: CallContext, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        var retriesLeft = retryAttempts
        while true {
            do {
                return try await attempt(context, body)
            } catch let error as OaaSError where error.code == .unavailable && retriesLeft > 0 {
                if let deadline = context.deadline, ContinuousClock.now + retryBackoff >= deadline { throw error }
                retriesLeft -= 1
                try await Task.sleep(for: retryBackoff)
            }
        }
    }

    /// One upstream call, bounded by the call's deadline and with its failure counted.
    private func attempt<T: Sendable>(_ context: CallContext, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            guard let deadline = context.deadline else { return try await body() }
            return try await GatewayDeadline.race(deadline, body)
        } catch {
            let failure = OaaSError.from(error)
            checks.metrics.upstreamErrors[failure.code]?.increment()
            throw failure
        }
    }
}

/// The gateway's store metrics (spec §11.2), created once so that the hot path only increments.
struct GatewayStoreMetrics: Sendable {
    let stringIdAttempts: Counter
    let stringIdRejected: Counter
    let upstreamErrors: [OaaSError.Code: Counter]

    init(factory: any MetricsFactory) {
        stringIdAttempts = Counter(label: "gateway_string_id_attempt_total", dimensions: [], factory: factory)
        stringIdRejected = Counter(label: "gateway_string_id_rejected_total", dimensions: [], factory: factory)
        var upstream: [OaaSError.Code: Counter] = [:]
        for code in OaaSError.Code.allCases {
            upstream[code] = Counter(label: "gateway_upstream_errors_total", dimensions: [("code", code.rawValue)], factory: factory)
        }
        upstreamErrors = upstream
    }
}

/// `object_id_str` as an optional, so the presence of the field survives normalization.
protocol StringObjectIdentified {
    var objectIDStr: String { get set }
    var hasObjectIDStr: Bool { get }
    mutating func clearObjectIDStr()
}

extension StringObjectIdentified {
    var objectIDStrIfPresent: String? {
        get { hasObjectIDStr ? objectIDStr : nil }
        set {
            if let newValue { objectIDStr = newValue } else { clearObjectIDStr() }
        }
    }
}

extension Oprc_SingleObjectRequest: StringObjectIdentified {}
extension Oprc_SingleKeyRequest: StringObjectIdentified {}
extension Oprc_SetKeyRequest: StringObjectIdentified {}
extension Oprc_SetObjectRequest: StringObjectIdentified {}
extension Oprc_BatchSetValuesRequest: StringObjectIdentified {}
extension Oprc_ListValuesRequest: StringObjectIdentified {}
