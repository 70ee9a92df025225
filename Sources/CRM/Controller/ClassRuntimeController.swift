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

    static func enqueueAll(_ runtimes: ObjectCache, _ queue: WorkQueue) {
        for object in runtimes.all(.classRuntimes) { queue.add(object.name) }
    }
}
