import Foundation
import Kube
import Logging

extension Reconciler {
    /// §9.6: phase `deleting`; delete every managed child labelled `oaas.io/owner=<name>` (PVCs unless data is
    /// retained); every 2 s until none remain; then drop our finalizer with a JSON patch guarded by resourceVersion.
    /// After `OPRC_CRM_DELETE_TIMEOUT_SECS` the finalizer goes anyway (`DeleteTimeout`; the garbage collector
    /// finishes through the ownerReferences).
    func finalize(_ runtime: ClassRuntime, logger: Logger) async throws -> Requeue {
        guard runtime.finalizers.contains(CRMKeys.finalizer) else {
            state.forget(runtime.name)
            return .none
        }
        let date = now()
        if runtime.status?.phase != .deleting {
            var status = runtime.status ?? ClassRuntimeStatus()
            status.phase = .deleting
            status.message = "deleting children"
            status.progressingSince = nil
            status.conditions = PhaseEvaluator.conditions(
                phase: .deleting, reason: "Deleting", message: "deleting children", generation: runtime.generation,
                previous: runtime.status?.conditions ?? [], now: date)
            // A conflict here only means the status write waits for the next pass; deletion goes on.
            _ = try await write(runtime, status, date: date, logger: logger)
            await events.record(target(runtime), .normal, reason: "Deleting",
                                message: "deleting the children of \(runtime.name)")
        }
        let retain = config.odgmRetainPVC || runtime.annotations[CRMKeys.retainData]?.lowercased() == "true"
        var remaining: [String] = []
        for resource in ManagedResources.deletable(knative: knative, retainPVCs: retain) {
            // StatefulSet controllers label claims with the selector only (no managed-by): match PVCs by owner.
            let selector = resource == .persistentVolumeClaims
                ? LabelSelector([.equals(CRMKeys.owner, runtime.name)]) : ManagedResources.ownerSelector(runtime.name)
            let list = try await client.list(resource, namespace: namespace, labelSelector: selector)
            for object in list.items {
                remaining.append("\(resource.kind) \(object.name)")
                guard !object.isBeingDeleted else { continue }
                do {
                    try await client.delete(resource, namespace: namespace, name: object.name,
                                            propagationPolicy: .background)
                    cache.remove(resource, name: object.name)
                } catch let error as KubeError where error.isNotFound {
                    cache.remove(resource, name: object.name)
                } catch let error as KubeError where !error.isTransient {
                    logger.warning("could not delete child", metadata: [
                        "kind": "\(resource.kind)", "name": "\(object.name)", "error": "\(error)",
                    ])
                }
            }
        }
        let started = runtime.deletionTimestamp ?? date
        let timedOut = date.timeIntervalSince(started) >= PhaseEvaluator.seconds(timings.deleteTimeout)
        guard remaining.isEmpty || timedOut else {
            logger.debug("waiting for children to go", metadata: ["remaining": "\(remaining.count)"])
            return .after(timings.deletionRequeue)
        }
        if !remaining.isEmpty {
            await events.record(target(runtime), .warning, reason: "DeleteTimeout",
                                message: "children still present after \(Int(PhaseEvaluator.seconds(timings.deleteTimeout))) s: \(remaining.prefix(5).joined(separator: ", ")); removing the finalizer anyway")
        }
        return try await removeFinalizer(runtime, logger: logger)
    }

    private func removeFinalizer(_ runtime: ClassRuntime, logger: Logger) async throws -> Requeue {
        var object = KubeObject(ClassRuntime.resource, name: runtime.name, namespace: namespace)
        object.resourceVersion = runtime.resourceVersion
        object.finalizers = runtime.finalizers
        do {
            try await client.removeFinalizer(CRMKeys.finalizer, from: object, resource: .classRuntimes)
        } catch let error as KubeError where error.isNotFound {
            // Already gone.
        } catch let error as KubeError where error.isConflict || error.code == 422 {
            // Changed since we read it (or the finalizer moved): read again.
            logger.debug("finalizer removal raced; re-reading")
            return .now
        }
        logger.info("finalizer removed")
        state.forget(runtime.name)
        return .none
    }
}
