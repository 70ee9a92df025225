import Kube
import Logging

extension Reconciler {
    // MARK: 4. Apply

    struct ApplyResult: Sendable {
        var changed: [DesiredChild] = []
        var failure: (reason: String, message: String)?
    }

    func apply(_ runtime: ClassRuntime, _ rendered: RenderedChildren, logger: Logger) async throws
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

    func deleteOrphans(_ runtime: ClassRuntime, _ rendered: RenderedChildren, logger: Logger) async throws {
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
}
