import Foundation
import GRPCCore
import Logging
import OaaSProto

/// Env health with a TTL cache (spec §5.2, §7 `CRM_HEALTH_CACHE_TTL`): every result is cached, healthy or not.
/// A miss asks the CRM's `GetEnvHealth`, falling back to `HealthService.Check` (spec §8.3); concurrent misses for
/// one env share one probe.
actor HealthMonitor {
    private let envs: CRMEnvironments
    private let ttl: Duration
    private let metrics: PMMetrics
    private let logger: Logger
    private var cache: [String: (health: ClusterHealth, at: ContinuousClock.Instant)] = [:]
    private var probes: [String: Task<ClusterHealth, Never>] = [:]

    /// Upper bound of one probe, whatever the env's call timeout: placement must not hang on a stuck CRM.
    static let probeTimeout: Duration = .seconds(10)

    init(envs: CRMEnvironments, ttl: Duration, metrics: PMMetrics, logger: Logger) {
        self.envs = envs
        self.ttl = ttl
        self.metrics = metrics
        self.logger = logger
    }

    /// The env's health from the cache, or probed when absent, older than the TTL, or `refresh` is set.
    func health(of name: String, refresh: Bool = false, correlationId: String = "health-\(UUID().uuidString)") async -> ClusterHealth? {
        guard let env = envs[name] else { return nil }
        if !refresh, let entry = cache[name], ContinuousClock.now - entry.at < ttl { return entry.health }
        if let running = probes[name] { return await running.value }
        let previous = cache[name]?.health
        let probe = Task { await Self.probe(env, previous: previous, correlationId: correlationId) }
        probes[name] = probe
        let health = await probe.value
        probes[name] = nil
        cache[name] = (health, .now)
        metrics.envHealth(env: name, status: health.status.rawValue)
        if health.status != previous?.status {
            logger.info("env health changed", metadata: ["env": "\(name)", "status": "\(health.status.rawValue)", "message": "\(health.message ?? "")"])
        }
        return health
    }

    /// Every env's health, probed concurrently where needed, in env order.
    func healthOfAll(refresh: Bool = false) async -> [ClusterHealth] {
        await withTaskGroup(of: (Int, ClusterHealth?).self) { group in
            for (index, env) in envs.all.enumerated() {
                group.addTask { (index, await self.health(of: env.name, refresh: refresh)) }
            }
            var results = [ClusterHealth?](repeating: nil, count: envs.all.count)
            for await (index, health) in group { results[index] = health }
            return results.compactMap { $0 }
        }
    }

    /// The last known health without asking anyone (for `/health`).
    func cached(_ name: String) -> ClusterHealth? { cache[name]?.health }

    private static func probe(_ env: CRMEnvironment, previous: ClusterHealth?, correlationId: String) async -> ClusterHealth {
        let call = CRMCall(correlationId: correlationId, timeout: min(env.config.timeout, probeTimeout))
        let now = Date()
        do {
            return ClusterHealth(env: env.name, reply: try await env.client.getEnvHealth(Oaas_Health_CrmEnvRequest(), call: call), now: now)
        } catch {
            // A reference CRM has no CrmInfoService; any failure falls back to the plain health check.
            let infoError = CRMFailure.rpcError(error)
            do {
                return ClusterHealth(env: env.name, serving: try await env.client.healthCheck(call: call), now: now)
            } catch {
                let checkError = CRMFailure.rpcError(error)
                let reason = infoError.code == .unimplemented ? CRMFailure.describe(checkError) : CRMFailure.describe(infoError)
                var health = ClusterHealth(clusterName: env.name, status: .unhealthy, lastSeen: previous?.lastSeen, message: "CRM unreachable: \(reason)")
                health.crmEnvName = previous?.crmEnvName
                return health
            }
        }
    }
}
