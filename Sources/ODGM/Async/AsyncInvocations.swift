import Logging
import OaaSCore
import OaaSProto
import ServiceLifecycle
import Storage

/// ODGM's asynchronous invocations (data-plane spec §5.5).
///
/// Submit validates like a sync call, commits the call durably in its partition's storage and
/// returns at once; ``executor`` (a `Service`) runs it through the node's sync ``Invoker`` at least
/// once; GetResult reads its state and, once DONE, its response until the retention ends.
///
/// Wiring: register the instance as `(any AsyncInvoker).self` and add ``services`` to the
/// process's service group (they must stop before storage closes).
public final class AsyncInvocations: AsyncInvoker {
    public let node: ODGMNode
    public let settings: AsyncSettings
    /// Runs queued calls and purges expired results.
    public let executor: AsyncExecutor
    let shared: AsyncNodeStores
    private let rules: AsyncRequestRules

    /// `invoker` runs the calls (ODGM's sync invoker); `settings` defaults to the node's configuration.
    public init(node: ODGMNode, invoker: any Invoker, settings: AsyncSettings? = nil, logger: Logger) {
        let settings = settings ?? AsyncSettings(config: node.config)
        self.node = node
        self.settings = settings
        self.shared = AsyncNodeStores(node: node, settings: settings, metrics: AsyncMetrics(), wakeup: AsyncWakeup(), logger: logger)
        self.rules = AsyncRequestRules(node: node)
        self.executor = AsyncExecutor(stores: shared, runner: AsyncRunner(invoker: invoker, settings: settings, logger: logger), logger: logger)
    }

    /// The long-lived parts to run in the process's service group.
    public var services: [any Service] { [executor] }

    public func submit(_ request: Oaas_Invocation_SubmitRequest, context: CallContext) async throws -> Oaas_Invocation_SubmitResponse {
        let (call, target) = try rules.submission(request)
        var record = AsyncRecord(state: .pending, call: call, submittedAtMs: settings.nowMs())
        record.triggerDepth = UInt64(max(0, context.triggerDepth))
        record.traceparent = context.traceparent
        record.tracestate = context.tracestate
        let (stored, created) = try await mapped { try await target.store.submit(target.key, record, maxPending: settings.maxPending) }
        if created {
            shared.refreshPendingGauge()
            shared.wakeup.wake()
        }
        var response = Oaas_Invocation_SubmitResponse()
        response.invocationID = target.key.invocationID
        response.state = stored.state.wire
        return response
    }

    public func getResult(_ request: Oaas_Invocation_GetResultRequest, context: CallContext) async throws -> Oaas_Invocation_GetResultResponse {
        let (target, objectID) = try rules.lookup(request)
        let record = try await mapped { try target.store.record(target.key) }
        guard let record, matches(record, fn: request.fnID, objectID: objectID),
              record.state != .done || record.expiresAtMs > settings.nowMs() else {
            throw OaaSError(.noInvocation, "invocation '\(request.invocationID)' of function '\(request.fnID)' not found in \(request.clsID)/\(request.partitionID)")
        }
        var response = Oaas_Invocation_GetResultResponse()
        response.state = record.state.wire
        response.submittedAtMs = record.submittedAtMs
        if record.state == .done {
            response.finishedAtMs = record.finishedAtMs
            if let result = record.response { response.response = result }
        }
        return response
    }

    /// Deletes the DONE records whose retention has ended (the executor also does this periodically).
    @discardableResult
    public func purgeExpired() async throws -> Int {
        try await mapped { try await shared.purgeExpired() }
    }

    /// A result belongs to the function and object (or none, for a stateless call) it was submitted for.
    private func matches(_ record: AsyncRecord, fn: String, objectID: ObjectID?) -> Bool {
        switch record.call {
        case .fn(let call):
            return call.fnID == fn && objectID == nil
        case .obj(let call):
            let stored: ObjectID = call.hasObjectIDStr ? .string(call.objectIDStr) : .numeric(call.objectID)
            return call.fnID == fn && objectID == stored
        }
    }

    /// Storage failures as OaaSErrors: INTERNAL with the reason (a full map names ODGM_LMDB_MAP_SIZE_MB),
    /// UNAVAILABLE while storage is closed (shutdown).
    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as OaaSError {
            throw error
        } catch let error as StorageError {
            switch error.kind {
            case .mapFull: throw OaaSError(.internal, "storage is full (raise ODGM_LMDB_MAP_SIZE_MB): \(error.message)")
            case .closed: throw OaaSError(.unavailable, "storage is closed: \(error.message)")
            default: throw OaaSError(.internal, "storage failure: \(error.message)")
            }
        } catch {
            throw OaaSError(.internal, "async invocation storage: \(error)")
        }
    }
}
