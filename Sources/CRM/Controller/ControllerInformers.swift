import Kube

/// The controller's informers (control-plane spec §9.2): ClassRuntimes, the managed children (their events enqueue
/// the owner from `oaas.io/owner`) and the router Services.
extension ClassRuntimeController {
    /// Runs one informer until cancelled. One that keeps failing (e.g. 403 on a kind RBAC does not grant) reports
    /// itself synced anyway, so a single kind cannot stall every reconcile, and starts over later from an emptied
    /// cache (`restart`); its kind then shows up as failed applies (Degraded `Forbidden`) instead.
    func inform(
        _ resource: KubeResource, selector: LabelSelector?, name: String, synced: AsyncStream<String>.Continuation,
        restart: () -> Void = {}, _ handle: (InformerEvent) -> Void
    ) async {
        var reported = false
        var failures = 0
        while !Task.isCancelled {
            let options = InformerOptions(labelSelector: selector, maxConsecutiveFailures: 5)
            do {
                for try await event in client.listAndWatch(resource, namespace: config.namespace, options: options) {
                    if case .synced = event {
                        failures = 0
                        if !reported {
                            reported = true
                            synced.yield(name)
                        }
                    }
                    handle(event)
                }
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let delay = ReconcileState.backoff(config.timings.errorRequeue * 10, attempt: failures,
                                                   max: config.timings.maxBackoff)
                logger.error("informer failing; continuing without it", metadata: [
                    "resource": "\(resource)", "error": "\(error)", "retryIn": "\(delay)",
                ])
                if !reported {
                    reported = true
                    synced.yield(name)
                }
                try? await Task.sleep(for: delay)
                restart()
            }
        }
    }

    func watchRuntimes(_ runtimes: ObjectCache, queue: WorkQueue, synced: AsyncStream<String>.Continuation) async {
        await inform(.classRuntimes, selector: nil, name: "classruntimes", synced: synced,
                     restart: { runtimes.clear(.classRuntimes) }) { event in
            switch event {
            case .added(let object):
                runtimes.upsert(.classRuntimes, object)
                queue.add(object.name)
            case .modified(let object):
                let previous = runtimes.get(.classRuntimes, object.name)
                runtimes.upsert(.classRuntimes, object)
                // Our own status writes come back as events: only what a reconcile reads from outside the status
                // (spec, deletion, finalizers, annotations, labels) is worth a pass.
                if previous.map({ Self.needsReconcile(old: $0, new: object) }) ?? true { queue.add(object.name) }
            case .deleted(let object):
                runtimes.remove(.classRuntimes, object)
                queue.add(object.name)
            case .synced:
                break
            }
            updatePhaseGauges(runtimes)
        }
    }

    func watchChildren(_ resource: KubeResource, cache: ObjectCache, queue: WorkQueue,
                       synced: AsyncStream<String>.Continuation) async {
        await inform(resource, selector: ManagedResources.managedSelector, name: "\(resource)", synced: synced,
                     restart: { cache.clear(resource) }) { event in
            switch event {
            case .added(let object), .modified(let object):
                cache.upsert(resource, object)
                if let owner = object.labels[CRMKeys.owner] { queue.add(owner) }
            case .deleted(let object):
                cache.remove(resource, object)
                if let owner = object.labels[CRMKeys.owner] { queue.add(owner) }
            case .synced:
                break
            }
        }
    }

    func watchRouters(_ routers: RouterDiscovery, runtimes: ObjectCache, queue: WorkQueue,
                      synced: AsyncStream<String>.Continuation) async {
        var listed = false
        await inform(.services, selector: ManagedResources.routerSelector, name: "routers", synced: synced) { event in
            var changed = false
            switch event {
            case .added(let object), .modified(let object):
                changed = routers.update(object)
            case .deleted(let object):
                changed = routers.remove(object.name)
            case .synced:
                listed = true
            }
            // Before the first list completes the CRs are not known yet: they are all reconciled then anyway.
            if changed, listed {
                logger.info("router services changed", metadata: ["routers": "\(routers.all.map(\.service))"])
                Self.enqueueAll(runtimes, queue)
            }
        }
    }

    static func needsReconcile(old: KubeObject, new: KubeObject) -> Bool {
        old.uid != new.uid || old.generation != new.generation || old.isBeingDeleted != new.isBeingDeleted
            || old.finalizers != new.finalizers || old.annotations != new.annotations || old.labels != new.labels
    }

    func updatePhaseGauges(_ runtimes: ObjectCache) {
        var counts: [ClassRuntimePhase: Int] = [:]
        for object in runtimes.all(.classRuntimes) {
            let phase = object.value(at: "status", "phase")?.stringValue.flatMap(ClassRuntimePhase.init(rawValue:))
            counts[phase ?? .pending, default: 0] += 1
        }
        metrics.setPhaseCounts(counts)
    }
}
