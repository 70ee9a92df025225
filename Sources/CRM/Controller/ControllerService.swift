import Kube
import Logging
import ServiceLifecycle

/// Runs the controller (and the leader tasks) while this replica leads (control-plane spec §9.3): with leader
/// election on, it contends for the Lease, stops everything on loss and contends again, and releases the Lease at
/// shutdown; with it off, this replica is always the leader. `crm_leader` reports which.
struct ControllerService: Service {
    let controller: ClassRuntimeController
    let elector: LeaderElector?
    let leaderTasks: [any CRMLeaderTask]
    let leaderContext: CRMLeaderContext
    let metrics: ControllerMetrics
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            guard let elector else {
                await lead()
                return
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await elector.run() }
                group.addTask {
                    for await leading in elector.leadershipUpdates() where leading {
                        await lead(until: elector)
                    }
                }
                await group.waitForAll()
            }
        }
        metrics.leader.record(0)
    }

    /// Leads until cancelled, or — with an elector — until it reports the loss of the Lease.
    private func lead(until elector: LeaderElector? = nil) async {
        // A buffered "leading" may be stale by the time it is read.
        if let elector, !elector.isLeader { return }
        metrics.leader.record(1)
        logger.info("leading: starting the controller")
        defer {
            metrics.leader.record(0)
            logger.info("no longer leading: controller stopped")
        }
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await controller.run()
                return false
            }
            for task in leaderTasks {
                group.addTask {
                    do {
                        try await task.run(context: leaderContext)
                    } catch {
                        if !Task.isCancelled {
                            logger.error("leader task failed", metadata: ["task": "\(task.name)", "error": "\(error)"])
                        }
                    }
                    return false
                }
            }
            if let elector {
                group.addTask {
                    // The stream yields the current state first, so a loss that already happened is seen at once.
                    for await leading in elector.leadershipUpdates() where !leading { return true }
                    return true
                }
            }
            for await lost in group where lost { break }
            group.cancelAll()
        }
    }
}
