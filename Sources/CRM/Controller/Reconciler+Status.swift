import Foundation
import Kube
import Logging

extension Reconciler {
    // MARK: 6.–8. Observe, evaluate, write, requeue

    func observeAndWrite(
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
    func schedule(_ runtime: ClassRuntime, _ outcome: PhaseEvaluator.Outcome, date: Date) -> Requeue {
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
    func degradedWithoutApply(
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
    func unreadable(_ object: KubeObject, _ error: CRMError, logger: Logger) async throws -> Requeue {
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
        let stored = (object.status?["conditions"]?.arrayValue ?? []).compactMap {
            try? $0.decode(as: ClassRuntimeCondition.self)
        }
        let conditions = PhaseConditions.make(
            phase: .degraded, reason: "TemplateError", message: message, generation: object.generation ?? 0,
            previous: stored, now: now())
        degraded["conditions"] = (try? JSONValue(encoding: conditions)) ?? .array([])
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
}
