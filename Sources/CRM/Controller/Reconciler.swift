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

    // MARK: 4. Apply

    struct ApplyResult: Sendable {
        var changed: [DesiredChild] = []
        var failure: (reason: String, message: String)?
    }

    private func apply(_ runtime: ClassRuntime, _ rendered: RenderedChildren, logger: Logger) async throws
        -> ApplyResult
    {
        let entry = state.entry(runtime.name)
        let clock = ContinuousClock.now
        let resync = entry.lastFullApply.map { $0.duration(to: clock) >= timings.resync } ?? true
        var result = ApplyResult()
        for child in rendered.children {
            let existing = cache.get(child.resource, child.name)
            let current = existing.map { $0.annotations[CRMKeys.appliedHash] == child.appliedHash } ?? false
            if current, !resync { continue }
            do {
                let stored = try await client.apply(child.resource, child.object, fieldManager: CRMKeys.fieldManager,
                                                    force: true)
                cache.upsert(child.resource, stored)
                if existing == nil || existing?.resourceVersion != stored.resourceVersion {
                    result.changed.append(child)
                    logger.debug("applied", metadata: ["kind": "\(child.kind)", "name": "\(child.name)"])
                }
            } catch let error as KubeError where !error.isTransient {
                let reason = Self.applyFailureReason(error, childMissing: existing == nil)
                logger.warning("apply rejected", metadata: [
                    "kind": "\(child.kind)", "name": "\(child.name)", "reason": "\(reason)", "error": "\(error)",
                ])
                if result.failure == nil {
                    result.failure = (reason, "\(child.kind) \(child.name): \(error.status?.message ?? "\(error)")")
                }
            }
            // Transient failures (5xx, timeouts, unreachable) propagate: requeue with backoff, phase unchanged.
        }
        if result.failure == nil, resync {
            state.update(runtime.name) { $0.lastFullApply = clock }
        }
        return result
    }

    /// §9.4 step 4: 422/400 → ApplyInvalid; 409 → Conflict; 401/403 → Forbidden; anything else on a child that is
    /// not there → ChildMissing.
    static func applyFailureReason(_ error: KubeError, childMissing: Bool) -> String {
        switch error {
        case .invalid, .badRequest: return "ApplyInvalid"
        case .conflict: return "Conflict"
        case .forbidden, .unauthorized: return "Forbidden"
        default: return childMissing ? "ChildMissing" : "ApplyInvalid"
        }
    }

    // MARK: 5. Orphans

    private func deleteOrphans(_ runtime: ClassRuntime, _ rendered: RenderedChildren, logger: Logger) async throws {
        let desired = Set(rendered.children.map { "\($0.resource)/\($0.name)" })
        for resource in ManagedResources.renderable(knative: knative) {
            for object in cache.owned(by: runtime.name, resource) where !desired.contains("\(resource)/\(object.name)") {
                guard !object.isBeingDeleted else { continue }
                do {
                    try await client.delete(resource, namespace: namespace, name: object.name,
                                            propagationPolicy: .background)
                } catch let error as KubeError where error.isNotFound {
                    // Already gone.
                } catch let error as KubeError where !error.isTransient {
                    logger.warning("could not delete orphan", metadata: ["kind": "\(resource.kind)",
                                                                          "name": "\(object.name)", "error": "\(error)"])
                    continue
                }
                cache.remove(resource, name: object.name)
                logger.info("deleted orphan", metadata: ["kind": "\(resource.kind)", "name": "\(object.name)"])
                await events.record(target(runtime), .normal, reason: "OrphanDeleted",
                                    message: "deleted \(resource.kind) \(object.name)")
            }
        }
    }

    // MARK: 6.–8. Observe, evaluate, write, requeue

    private func observeAndWrite(
        _ runtime: ClassRuntime, _ rendered: RenderedChildren, applied: ApplyResult, logger: Logger
    ) async throws -> Requeue {
        let date = now()
        var verdicts: [String: ChildReadiness.Verdict] = [:]
        var allReady = true
        var readyWorkloads = 0
        var firstNotReady: String?
        var rollingOut = false
        var deadlineExceeded = false
        var refs: [ClassRuntimeStatus.ResourceRef] = []
        for child in rendered.children {
            let observed = cache.get(child.resource, child.name)
            refs.append(.init(kind: child.kind, name: child.name, uid: observed?.uid))
            let verdict = ChildReadiness.verdict(child.resource, observed)
            if child.workload, verdict.ready { readyWorkloads += 1 }
            if child.workload, child.component == "function", let key = child.functionKey { verdicts[key] = verdict }
            if !verdict.ready {
                allReady = false
                if firstNotReady == nil { firstNotReady = "\(child.kind) \(child.name): \(verdict.detail ?? "not ready")" }
                rollingOut = rollingOut || verdict.rollingOut
                deadlineExceeded = deadlineExceeded || verdict.deadlineExceeded
            }
        }
        let pods = cache.owned(by: runtime.name, .pods)
        let outcome = PhaseEvaluator.evaluate(.init(
            generation: runtime.generation, previous: runtime.status, failure: applied.failure,
            appliedCount: applied.changed.count, template: rendered.template.name,
            desiredWorkloads: rendered.workloadCount, readyWorkloads: readyWorkloads, allReady: allReady,
            notReadyDetail: firstNotReady, rollingOut: rollingOut, deploymentDeadlineExceeded: deadlineExceeded,
            podFailure: allReady ? nil : ChildReadiness.podFailure(pods, now: date), now: date,
            progressDeadline: timings.progressDeadline))

        var status = runtime.status ?? ClassRuntimeStatus()
        status.phase = outcome.phase
        status.message = outcome.message
        status.observedGeneration = outcome.observedGeneration
        status.progressingSince = outcome.progressingSince
        status.conditions = PhaseEvaluator.conditions(
            phase: outcome.phase, reason: outcome.reason, message: outcome.message, generation: runtime.generation,
            previous: runtime.status?.conditions ?? [], now: date)
        status.template = rendered.template.name
        status.templateSource = rendered.template.source
        status.ready = "\(readyWorkloads)/\(rendered.workloadCount)"
        status.resourceRefs = refs.sorted { ($0.kind, $0.name) < ($1.kind, $1.name) }
        status.functions = StatusWriter.functions(rendered: rendered.functions, observed: verdicts,
                                                  previous: runtime.status?.functions ?? [], now: date)
        status.routers = routers.all

        if !applied.changed.isEmpty {
            await events.record(target(runtime), .normal, reason: "Applied",
                                message: "applied \(applied.changed.count) object\(applied.changed.count == 1 ? "" : "s") (template \(rendered.template.name))")
        }
        guard try await write(runtime, status, date: date, logger: logger) else { return .now }
        await recordPhaseEvents(runtime, previous: runtime.status, outcome: outcome)
        return schedule(runtime, outcome, date: date)
    }

    /// When to look again (§9.4 step 8).
    private func schedule(_ runtime: ClassRuntime, _ outcome: PhaseEvaluator.Outcome, date: Date) -> Requeue {
        var degradedPasses = 0
        state.update(runtime.name) { entry in
            entry.failedPasses = 0
            if outcome.phase == .degraded {
                entry.degradedPasses += 1
                degradedPasses = entry.degradedPasses
            } else {
                entry.degradedPasses = 0
            }
        }
        switch outcome.phase {
        case .degraded:
            return .after(ReconcileState.backoff(timings.degradedRequeue, attempt: degradedPasses,
                                                 max: timings.maxBackoff))
        case .applying, .progressing, .pending:
            var delay = timings.progressingRequeue
            // Wake up in time to notice the progress deadline.
            if let since = outcome.progressingSince.flatMap(KubeTime.parse) {
                let left = PhaseEvaluator.seconds(timings.progressDeadline) - date.timeIntervalSince(since)
                let untilDeadline = Duration.milliseconds(Int64(max(0, left) * 1000) + 50)
                delay = min(delay, untilDeadline)
            }
            return .after(delay)
        case .available:
            return .after(timings.resync)
        case .deleting:
            return .after(timings.deletionRequeue)
        }
    }

    /// Patches the status when it changed (ignoring timestamps); `false` when the CR changed meanwhile (409) and
    /// the pass must be redone.
    @discardableResult
    func write(_ runtime: ClassRuntime, _ status: ClassRuntimeStatus, date: Date, logger: Logger) async throws
        -> Bool
    {
        guard StatusWriter.differs(runtime.status, status) else { return true }
        var status = status
        status.lastUpdated = KubeTime.format(date)
        do {
            try await client.mergePatch(.classRuntimes, namespace: namespace, name: runtime.name,
                                        StatusWriter.patch(status, resourceVersion: runtime.resourceVersion),
                                        subresource: "status")
            logger.debug("status written", metadata: ["phase": "\(status.phase?.rawValue ?? "-")"])
            return true
        } catch let error as KubeError where error.isConflict {
            logger.debug("status write raced with another writer; re-reading")
            return false
        } catch let error as KubeError where error.isNotFound {
            return true
        }
    }

    // MARK: Degraded without apply

    /// Render failed (TemplateError): no apply; status and Event say why.
    private func degradedWithoutApply(
        _ runtime: ClassRuntime, reason: String, message: String, logger: Logger
    ) async throws -> Requeue {
        let date = now()
        let outcome = PhaseEvaluator.evaluate(.init(
            generation: runtime.generation, previous: runtime.status, failure: (reason, message), appliedCount: 0,
            template: runtime.status?.template ?? "", desiredWorkloads: 0, readyWorkloads: 0, allReady: false,
            notReadyDetail: nil, rollingOut: false, deploymentDeadlineExceeded: false, podFailure: nil, now: date,
            progressDeadline: timings.progressDeadline))
        var status = runtime.status ?? ClassRuntimeStatus()
        status.phase = outcome.phase
        status.message = outcome.message
        status.observedGeneration = outcome.observedGeneration
        status.progressingSince = outcome.progressingSince
        status.conditions = PhaseEvaluator.conditions(
            phase: outcome.phase, reason: outcome.reason, message: outcome.message, generation: runtime.generation,
            previous: runtime.status?.conditions ?? [], now: date)
        logger.warning("render failed", metadata: ["error": "\(message)"])
        guard try await write(runtime, status, date: date, logger: logger) else { return .now }
        await recordPhaseEvents(runtime, previous: runtime.status, outcome: outcome)
        return schedule(runtime, outcome, date: date)
    }

    /// The stored spec cannot be decoded (written by another tool or version): say so on the CR and keep its
    /// children as they are. Deletion still works: it needs no spec.
    private func unreadable(_ object: KubeObject, _ error: CRMError, logger: Logger) async throws -> Requeue {
        logger.warning("unreadable ClassRuntime", metadata: ["error": "\(error.message)"])
        let name = object.name
        if object.isBeingDeleted {
            let placeholder = ClassRuntime(
                name: name, namespace: namespace, spec: ClassRuntimeSpec(packageClassKey: ""), uid: object.uid,
                resourceVersion: object.resourceVersion, generation: object.generation ?? 0,
                deletionTimestamp: object.deletionTimestamp, labels: object.labels, annotations: object.annotations,
                finalizers: object.finalizers)
            return try await finalize(placeholder, logger: logger)
        }
        let message = String(error.message.prefix(512))
        var degraded: JSONValue = [
            "phase": "degraded", "message": .string(message), "last_updated": .string(KubeTime.format(now())),
        ]
        let stored = object.status?["conditions"]?.arrayValue ?? []
        let conditions = ["Available", "Progressing", "Degraded"].map { type -> JSONValue in
            let status = type == "Degraded" ? "True" : "False"
            let before = stored.first { $0["type"]?.stringValue == type }
            let since = before?["status"]?.stringValue == status ? before?["lastTransitionTime"]
                : .string(KubeTime.format(now()))
            return ["type": .string(type), "status": .string(status), "reason": "TemplateError",
                    "lastTransitionTime": since ?? .string(KubeTime.format(now()))]
        }
        degraded["conditions"] = .array(conditions + stored.filter {
            !["Available", "Progressing", "Degraded"].contains($0["type"]?.stringValue ?? "")
        })
        if object.status?["phase"]?.stringValue != "degraded" || object.status?["message"]?.stringValue != message {
            try await client.patchStatus(.classRuntimes, namespace: namespace, name: name, degraded)
        }
        var attempt = 0
        state.update(name) { entry in
            entry.degradedPasses += 1
            attempt = entry.degradedPasses
        }
        return .after(ReconcileState.backoff(timings.degradedRequeue, attempt: attempt, max: timings.maxBackoff))
    }

    // MARK: Events

    func target(_ runtime: ClassRuntime) -> EventRecorder.Target {
        EventRecorder.Target(
            apiVersion: ClassRuntime.resource.apiVersion, kind: ClassRuntime.resource.kind, name: runtime.name,
            namespace: runtime.namespace.isEmpty ? namespace : runtime.namespace, uid: runtime.uid,
            resourceVersion: runtime.resourceVersion, correlationId: runtime.annotations[CRMKeys.correlationId])
    }

    private func recordTemplateEvents(_ runtime: ClassRuntime, _ rendered: RenderedChildren) async {
        let choice = rendered.template
        if let hint = choice.unavailableHint {
            await events.record(target(runtime), .warning, reason: "TemplateUnavailable",
                                message: "template '\(hint)' is not registered here; using '\(choice.name)' (\(choice.source))")
        }
        if runtime.status?.template != choice.name {
            await events.record(target(runtime), .normal, reason: "TemplateSelected",
                                message: "selected template \(choice.name) (source \(choice.source))")
        }
        for warning in rendered.warnings {
            await events.record(target(runtime), .warning, reason: "ConfigOverride", message: warning)
        }
    }

    private func recordPhaseEvents(
        _ runtime: ClassRuntime, previous: ClassRuntimeStatus?, outcome: PhaseEvaluator.Outcome
    ) async {
        let wasAvailable = previous?.phase == .available
        let previousDegradedReason = previous?.phase == .degraded
            ? previous?.condition(ClassRuntimeCondition.degraded)?.reason : nil
        switch outcome.phase {
        case .available where !wasAvailable:
            await events.record(target(runtime), .normal, reason: "Available", message: outcome.message)
        case .degraded where previousDegradedReason != outcome.reason:
            await events.record(target(runtime), .warning, reason: "Degraded",
                                message: "\(outcome.reason): \(outcome.message)")
        default:
            break
        }
    }
}
