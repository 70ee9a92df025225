import Foundation
import Kube
import Logging

/// The ClassRuntime controller of one leadership term (control-plane spec §9.2, §9.4): informers for ClassRuntimes,
/// their managed children and the router Services; a deduplicating work queue; `OPRC_CRM_MAX_CONCURRENT_RECONCILES`
/// workers. `run()` returns when the calling task is cancelled (leadership lost, shutdown).
final class ClassRuntimeController: Sendable {
    let client: KubeClient
    let config: CRMConfig
    let discovery: ClusterDiscovery
    let events: EventRecorder
    let metrics: ControllerMetrics
    let logger: Logger

    init(client: KubeClient, config: CRMConfig, discovery: ClusterDiscovery, events: EventRecorder,
         metrics: ControllerMetrics, logger: Logger) {
        self.client = client
        self.config = config
        self.discovery = discovery
        self.events = events
        self.metrics = metrics
        self.logger = logger
    }

    /// Runs terms until cancelled; a change in Knative availability starts a fresh term (different watches).
    func run() async {
        while !Task.isCancelled {
            let restart = await runTerm()
            guard restart else { return }
            logger.info("cluster discovery changed; restarting the controller")
        }
    }

    /// Child-task results: `true` asks for a restart.
    private func runTerm() async -> Bool {
        let knative = discovery.knativeAvailable
        let cache = ObjectCache()
        let runtimes = ObjectCache()
        let routers = RouterDiscovery()
        let queue = WorkQueue()
        let reconciler = Reconciler(client: client, config: config, cache: cache, routers: routers,
                                    discovery: discovery, events: events, metrics: metrics, knative: knative,
                                    logger: logger)
        let children = ManagedResources.watched(knative: knative)
        let (synced, syncedContinuation) = AsyncStream<String>.makeStream()
        let informerCount = children.count + 2
        logger.info("controller starting", metadata: ["namespace": "\(config.namespace)", "knative": "\(knative)",
                                                      "workers": "\(config.maxConcurrentReconciles)"])
        defer { queue.shutdown() }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.watchRuntimes(runtimes, queue: queue, synced: syncedContinuation)
                return false
            }
            for resource in children {
                group.addTask {
                    await self.watchChildren(resource, cache: cache, queue: queue, synced: syncedContinuation)
                    return false
                }
            }
            group.addTask {
                await self.watchRouters(routers, runtimes: runtimes, queue: queue, synced: syncedContinuation)
                return false
            }
            group.addTask {
                await queue.runScheduler()
                return false
            }
            group.addTask {
                for await _ in self.discovery.changes() {
                    if self.discovery.knativeAvailable != knative { return true }
                    Self.enqueueAll(runtimes, queue)
                }
                return false
            }
            // Workers start once every cache holds a full list: before that, a missing child would look deleted
            // and an existing one like an orphan candidate that is not there.
            var seen = Set<String>()
            for await name in synced {
                seen.insert(name)
                if seen.count == informerCount { break }
            }
            guard !Task.isCancelled else {
                group.cancelAll()
                return false
            }
            logger.info("caches synced; reconciling")
            for _ in 0..<config.maxConcurrentReconciles {
                group.addTask {
                    await self.work(queue, reconciler)
                    return false
                }
            }
            for await restart in group where restart {
                group.cancelAll()
                return true
            }
            return false
        }
    }

    // MARK: Workers

    private func work(_ queue: WorkQueue, _ reconciler: Reconciler) async {
        while let key = await queue.next() {
            let requeue = await reconciler.reconcile(key)
            queue.done(key)
            switch requeue {
            case .none: break
            case .now: queue.add(key)
            case .after(let delay): queue.addAfter(key, delay)
            }
        }
    }

    // MARK: Informers

    private func watchRuntimes(_ runtimes: ObjectCache, queue: WorkQueue,
                               synced: AsyncStream<String>.Continuation) async {
        let stream = client.listAndWatch(.classRuntimes, namespace: config.namespace,
                                         options: InformerOptions(watchTimeoutSeconds: 300))
        do {
            for try await event in stream {
                switch event {
                case .added(let object):
                    runtimes.upsert(.classRuntimes, object)
                    queue.add(object.name)
                case .modified(let object):
                    let previous = runtimes.get(.classRuntimes, object.name)
                    runtimes.upsert(.classRuntimes, object)
                    // Our own status writes come back as events: only what the reconcile reads from outside the
                    // status (spec, deletion, finalizers, annotations, labels) is worth a pass.
                    if previous.map({ Self.needsReconcile(old: $0, new: object) }) ?? true { queue.add(object.name) }
                case .deleted(let object):
                    runtimes.remove(.classRuntimes, object)
                    queue.add(object.name)
                case .synced:
                    synced.yield("classruntimes")
                }
                updatePhaseGauges(runtimes)
            }
        } catch {
            logger.error("ClassRuntime informer stopped", metadata: ["error": "\(error)"])
        }
    }

    private func watchChildren(_ resource: KubeResource, cache: ObjectCache, queue: WorkQueue,
                               synced: AsyncStream<String>.Continuation) async {
        let stream = client.listAndWatch(resource, namespace: config.namespace,
                                         options: InformerOptions(labelSelector: ManagedResources.managedSelector))
        do {
            for try await event in stream {
                switch event {
                case .added(let object), .modified(let object):
                    cache.upsert(resource, object)
                    if let owner = object.labels[CRMKeys.owner] { queue.add(owner) }
                case .deleted(let object):
                    cache.remove(resource, object)
                    if let owner = object.labels[CRMKeys.owner] { queue.add(owner) }
                case .synced:
                    synced.yield("\(resource)")
                }
            }
        } catch {
            logger.error("informer stopped", metadata: ["resource": "\(resource)", "error": "\(error)"])
        }
    }

    private func watchRouters(_ routers: RouterDiscovery, runtimes: ObjectCache, queue: WorkQueue,
                              synced: AsyncStream<String>.Continuation) async {
        let stream = client.listAndWatch(.services, namespace: config.namespace,
                                         options: InformerOptions(labelSelector: ManagedResources.routerSelector))
        var initial = true
        do {
            for try await event in stream {
                var changed = false
                switch event {
                case .added(let object), .modified(let object):
                    changed = routers.update(object)
                case .deleted(let object):
                    changed = routers.remove(object.name)
                case .synced:
                    synced.yield("routers")
                    initial = false
                }
                if changed, !initial {
                    logger.info("router services changed", metadata: ["routers": "\(routers.all.map(\.service))"])
                    Self.enqueueAll(runtimes, queue)
                }
            }
        } catch {
            logger.error("router informer stopped", metadata: ["error": "\(error)"])
        }
    }

    static func enqueueAll(_ runtimes: ObjectCache, _ queue: WorkQueue) {
        for object in runtimes.all(.classRuntimes) { queue.add(object.name) }
    }

    static func needsReconcile(old: KubeObject, new: KubeObject) -> Bool {
        old.uid != new.uid || old.generation != new.generation || old.isBeingDeleted != new.isBeingDeleted
            || old.finalizers != new.finalizers || old.annotations != new.annotations || old.labels != new.labels
    }

    private func updatePhaseGauges(_ runtimes: ObjectCache) {
        var counts: [ClassRuntimePhase: Int] = [:]
        for object in runtimes.all(.classRuntimes) {
            let phase = object.value(at: "status", "phase")?.stringValue.flatMap(ClassRuntimePhase.init(rawValue:))
            counts[phase ?? .pending, default: 0] += 1
        }
        metrics.setPhaseCounts(counts)
    }
}
