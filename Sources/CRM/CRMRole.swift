import Foundation
import GRPCCore
import Kube
import Logging
import OaaSCore
import ServiceLifecycle

/// The CRM role (`oaas serve --role crm`, control-plane spec §1, §8, §9). The launcher serves `grpcServices` on
/// `config.httpPort` (and `config.grpcPort`) through its RoleServer and runs `services` in its ServiceGroup:
/// the API-server probe, Knative discovery (every replica) and the leader-only controller.
public final class CRMRole: Sendable {
    /// Reported as `crm_version` by GetEnvHealth.
    public static let version = "0.1.0"

    public let config: CRMConfig
    public let client: KubeClient
    public let grpcServices: [any RegistrableRPCService]
    public let services: [any Service]
    let health: APIServerHealth
    let discovery: ClusterDiscovery
    let serviceContext: CRMServiceContext
    /// nil when leader election is off.
    let elector: LeaderElector?

    /// - Parameters:
    ///   - kube: the client to use; nil builds one from `KUBECONFIG` / the in-cluster service account (problems are
    ///     a `ConfigurationError` naming the variable), shut down with the container.
    ///   - leaderTasks: loops only the leader runs; by default the NFR analyzer (phase 2) and enforcer (phase 3).
    public convenience init(
        config: CRMConfig, container: ServiceContainer, kube: KubeClient?,
        leaderTasks: [any CRMLeaderTask] = CRMRole.nfrLeaderTasks
    ) async throws {
        var config = config
        config.nfrEnforcementEnabled = try NFRFeatureFlag.resolve(environment: container.env.values,
                                                                  current: config.nfrEnforcementEnabled)
        var logger = container.logger
        logger[metadataKey: "role"] = "crm"
        let client: KubeClient
        if let kube {
            client = kube
        } else {
            client = try Self.makeClient(config: config, environment: container.env.values, logger: logger)
            await container.onShutdown {
                try? await client.shutdown()
            }
        }
        self.init(config: config, client: client, logger: logger, leaderTasks: leaderTasks)
        let health = self.health
        await container.addReadinessCheck("crm") {
            health.isServing() ? nil : "the kubernetes API server has not answered within \(health.window)"
        }
    }

    /// The NFR analyzer (runs iff `OPRC_CRM_PROM_URL` is set) and enforcer (runs iff the enforcement feature is on).
    public static var nfrLeaderTasks: [any CRMLeaderTask] { [NFRAnalyzer(), NFREnforcer()] }

    /// Builds the role around an existing client (the public initialiser adds the container hooks).
    init(config: CRMConfig, client: KubeClient, logger: Logger, leaderTasks: [any CRMLeaderTask] = []) {
        for warning in config.warnings { logger.warning("\(warning)") }
        self.config = config
        self.client = client

        let health = APIServerHealth(window: config.timings.apiHealthWindow)
        let discovery = ClusterDiscovery(knativeEnabled: config.knativeEnabled)
        let context = CRMServiceContext(config: config, client: client, health: health, discovery: discovery,
                                        logger: logger)
        self.health = health
        self.discovery = discovery
        self.serviceContext = context
        grpcServices = [
            DeploymentService(context: context),
            CrmInfoService(context: context),
            CRMHealthService(health: health, pollInterval: .seconds(1)),
        ]

        let metrics = ControllerMetrics()
        metrics.leader.record(0)
        let events = EventRecorder(client: client, reportingInstance: config.podName,
                                   window: config.timings.eventDedupWindow, logger: logger)
        let controller = ClassRuntimeController(client: client, config: config, discovery: discovery, events: events,
                                                metrics: metrics, logger: logger)
        var elector: LeaderElector?
        if config.leaderElectionEnabled {
            elector = LeaderElector(
                client: client,
                configuration: .init(
                    namespace: config.namespace, leaseName: config.leaseName,
                    identity: LeaderElector.makeIdentity(podName: config.podName),
                    leaseDuration: config.timings.leaseDuration, renewDeadline: config.timings.renewDeadline,
                    retryPeriod: config.timings.retryPeriod),
                logger: logger)
        }
        self.elector = elector
        services = [
            APIServerProbe(client: client, health: health, interval: config.timings.apiHealthProbe, logger: logger),
            DiscoveryService(discovery: discovery, client: client, health: health,
                             interval: config.timings.knativeRecheck, logger: logger),
            ControllerService(controller: controller, elector: elector, leaderTasks: leaderTasks,
                              leaderContext: CRMLeaderContext(client: client, config: config, logger: logger),
                              metrics: metrics, logger: logger),
        ]
    }

    /// A client from `KUBECONFIG` or the in-cluster service account, bounded per call by
    /// `OPRC_CRM_K8S_CALL_TIMEOUT_SECS`; any problem is a ConfigurationError naming where it came from.
    static func makeClient(config: CRMConfig, environment: [String: String], logger: Logger) throws -> KubeClient {
        do {
            let kubeConfig = try KubeConfig.load(environment: environment)
            return try KubeClient(configuration: kubeConfig, fieldManager: CRMKeys.fieldManager,
                                  requestTimeout: config.timings.kubeCallTimeout, logger: logger)
        } catch {
            let source = environment["KUBERNETES_SERVICE_HOST"].map { _ in "in-cluster service account" }
                ?? "KUBECONFIG"
            throw ConfigurationError("\(source): cannot reach Kubernetes: \(error)")
        }
    }
}
