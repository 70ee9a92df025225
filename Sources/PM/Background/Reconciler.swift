import Foundation
import Logging
import OaaSModels
import ServiceLifecycle
import Synchronization

/// The background loop of spec §5.8: every `DEPLOY_RECONCILE_INTERVAL` it re-dispatches pending units, finishes
/// deletes and caches live conditions. An env that keeps failing for a deployment is retried with exponential
/// backoff (from the interval, capped at `reconcileMaxBackoff`).
final class Reconciler: Service, Sendable {
    private let manager: DeploymentManager
    private let interval: Duration
    private let maxBackoff: Duration
    private let logger: Logger
    private let backoff = Mutex<[String: (failures: Int, next: ContinuousClock.Instant)]>([:])

    init(manager: DeploymentManager, interval: Duration, maxBackoff: Duration, logger: Logger) {
        self.manager = manager
        self.interval = interval
        self.maxBackoff = maxBackoff
        self.logger = logger
    }

    func run() async throws {
        // Shutdown cancels the loop; it ends quietly rather than with an error.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.pass()
                do {
                    try await Task.sleep(for: self.interval)
                } catch {
                    return
                }
            }
        }
    }

    /// One pass over every deployment.
    func pass() async {
        let records: [Stored<OClassDeployment>]
        do {
            records = try await manager.store.deployments()
        } catch {
            logger.warning("reconciler cannot list deployments", metadata: ["error": "\(error)"])
            return
        }
        for record in records where !Task.isCancelled {
            let key = record.value.key
            let call = CRMCall(correlationId: "reconcile-\(UUID().uuidString.lowercased())", timeout: .seconds(30))
            var logger = logger
            logger[metadataKey: "correlation_id"] = "\(call.correlationId)"
            let now = ContinuousClock.now
            let results = await manager.reconcile(key, isDue: { env in self.isDue(key: key, env: env, now: now) }, call: call, logger: logger)
            for (env, succeeded) in results { note(key: key, env: env, succeeded: succeeded) }
        }
    }

    private func isDue(key: String, env: String, now: ContinuousClock.Instant) -> Bool {
        backoff.withLock { $0["\(key)/\(env)"].map { now >= $0.next } ?? true }
    }

    private func note(key: String, env: String, succeeded: Bool) {
        backoff.withLock { entries in
            let id = "\(key)/\(env)"
            guard !succeeded else {
                entries[id] = nil
                return
            }
            let failures = (entries[id]?.failures ?? 0) + 1
            let delay = min(interval * Double(1 << min(failures - 1, 20)), maxBackoff)
            entries[id] = (failures, .now + delay)
        }
    }
}
