import Foundation
import Kube
import Logging

/// One reconcile pass over one ClassRuntime (control-plane spec §9.4): idempotent, never assumes why it was called —
/// it reads the CR, renders the desired children, applies what changed, deletes orphans, observes readiness and
/// writes the status, then says when to look again.
final class Reconciler: Sendable {
    enum Requeue: Sendable, Equatable {
        case none
        case now
        case after(Duration)
    }

    let client: KubeClient
    let config: CRMConfig
    let cache: ObjectCache
    let routers: RouterDiscovery
    let discovery: ClusterDiscovery
    let events: EventRecorder
    let metrics: ControllerMetrics
    let state = ReconcileState()
    let logger: Logger
    /// Whether this controller term watches Knative Services (fixed per term; a change restarts the controller).
    let knative: Bool
    let now: @Sendable () -> Date

    init(
        client: KubeClient, config: CRMConfig, cache: ObjectCache, routers: RouterDiscovery,
        discovery: ClusterDiscovery, events: EventRecorder, metrics: ControllerMetrics, knative: Bool, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.config = config
        self.cache = cache
        self.routers = routers
        self.discovery = discovery
        self.events = events
        self.metrics = metrics
        self.knative = knative
        self.logger = logger
        self.now = now
    }

    var namespace: String { config.namespace }
    var timings: CRMTimings { config.timings }

    /// Reconciles `name`; never throws: failures become status, Events, logs and a requeue.
    func reconcile(_ name: String) async -> Requeue {
        let start = ContinuousClock.now
        var logger = self.logger
        logger[metadataKey: "classruntime"] = "\(name)"
        let requeue: Requeue
        let result: String
        do {
            requeue = try await pass(name, logger: logger)
            result = "success"
        } catch is CancellationError {
            return .none
        } catch {
            if Task.isCancelled { return .none }
            var attempt = 0
            state.update(name) { entry in
                entry.failedPasses += 1
                attempt = entry.failedPasses
            }
            let delay = ReconcileState.backoff(timings.errorRequeue, attempt: attempt, max: timings.maxBackoff)
            logger.warning("reconcile failed, retrying", metadata: ["error": "\(error)", "retryIn": "\(delay)"])
            requeue = .after(delay)
            result = "error"
        }
        metrics.reconciled(result: result, since: start)
        return requeue
    }

    // MARK: The pass

    private func pass(_ name: String, logger: Logger) async throws -> Requeue {
        // 1. Read the CR itself live: its status is the basis of every decision below.
        guard let object = try await client.getIfPresent(.classRuntimes, namespace: namespace, name: name) else {
            state.forget(name)
            return .none
        }
        var runtime: ClassRuntime
        do {
            runtime = try ClassRuntime(object: object)
        } catch {
            return try await unreadable(object, error, logger: logger)
        }
        if runtime.isBeingDeleted {
            return try await finalize(runtime, logger: logger)
        }
        // 2. Finalizer (Deploy normally sets it already).
        if !runtime.finalizers.contains(CRMKeys.finalizer) {
            let updated = try await client.addFinalizer(CRMKeys.finalizer, to: object, resource: .classRuntimes)
            runtime = try ClassRuntime(object: updated)
        }
        // 3. Render.
        let context = config.renderContext(registeredTemplates: Set(discovery.registeredTemplates),
                                           router: routers.primary)
        let rendered: RenderedChildren
        do {
            rendered = try render(runtime, context: context)
        } catch {
            return try await degradedWithoutApply(runtime, reason: "TemplateError", message: error.message,
                                                  logger: logger)
        }
        await recordTemplateEvents(runtime, rendered)
        // 4. Apply.
        let applied = try await apply(runtime, rendered, logger: logger)
        // 5. Orphans.
        try await deleteOrphans(runtime, rendered, logger: logger)
        // 6.–7. Observe, evaluate, write status.
        return try await observeAndWrite(runtime, rendered, applied: applied, logger: logger)
    }
}
