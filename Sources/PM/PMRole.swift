import Foundation
import Hummingbird
import Logging
import Metrics
import OaaSCore
import ServiceLifecycle
import Storage

/// The package manager role (`oaas serve --role pm`, control-plane spec §4–§8): the REST API, the deployment
/// workflow, the reconciler and the CRM health poller, over LMDB, etcd or memory storage.
public final class PMRole: Sendable {
    public static let version = "0.1.0"

    public let config: PMConfig
    /// Reconciler, health poller, background redeploys and the gRPC connections to remote CRMs; run them in the
    /// process's service group.
    public let services: [any Service]
    let routes: PMRoutes
    let manager: DeploymentManager
    let logger: Logger

    /// - Parameters:
    ///   - inProcessCRMs: env name → client of a CRM living in this process; such envs exist even if no `CRM_*`
    ///     variable names them (`serve --role pm,crm`, `oaas dev`) and replace a configured env of the same name.
    ///   - metricsFactory: where PM's metrics go (default: the process-wide `MetricsSystem`).
    /// - Throws: `ConfigurationError` for unusable configuration (storage that cannot be opened, TLS files
    ///   missing, a default env that does not exist).
    public init(
        config: PMConfig,
        container: ServiceContainer,
        inProcessCRMs: [(env: String, client: any CRMClient)] = [],
        metricsFactory: (any MetricsFactory)? = nil
    ) async throws {
        var logger = container.logger
        logger[metadataKey: "role"] = "pm"
        self.config = config
        self.logger = logger
        for warning in config.warnings { logger.warning("\(warning)") }

        let kv = try await Self.openStorage(config.storage, container: container, logger: logger)
        let store = PMStore(kv: kv, logger: logger)
        do {
            try await store.prepare()
        } catch let error as PMError {
            throw ConfigurationError("STORAGE_TYPE: \(error.message)")
        } catch {
            // The backend may come up later; readiness reports it until then.
            logger.warning("PM storage not reachable at start", metadata: ["error": "\(error)"])
        }

        var environments: [CRMEnvironment] = []
        var services: [any Service] = []
        let inProcessNames = Set(inProcessCRMs.map(\.env))
        for env in config.envs where !inProcessNames.contains(env.name) {
            let connection = try CRMConnection(config: env)
            services.append(connection)
            environments.append(CRMEnvironment(config: env, client: connection.client, inProcess: false))
        }
        for (name, client) in inProcessCRMs {
            guard CRMEnvConfig.isValidName(name) else { throw ConfigurationError("in-process CRM env '\(name)' is not a valid env name") }
            let configured = config.envs.first { $0.name == name }
            let envConfig = CRMEnvConfig(
                name: name, url: "inprocess://\(name)",
                timeout: configured?.timeout ?? CRMEnvConfig.defaultTimeout,
                retryAttempts: configured?.retryAttempts ?? CRMEnvConfig.defaultRetryAttempts,
                gatewayURL: configured?.gatewayURL
            )
            environments.append(CRMEnvironment(config: envConfig, client: client, inProcess: true))
        }
        let names = environments.map(\.name)
        if let explicit = config.defaultEnv, !names.contains(explicit) {
            throw ConfigurationError("CRM_DEFAULT_CLUSTER: env '\(explicit)' is not configured (configured: \(names.sorted().joined(separator: ", ")))")
        }
        let envs = CRMEnvironments(environments, defaultEnv: config.defaultEnv ?? CRMClusterParser.defaultEnv(explicit: nil, names: names))

        let metrics = PMMetrics(factory: metricsFactory ?? MetricsSystem.factory, enabled: config.metricsEnabled)
        let health = HealthMonitor(envs: envs, ttl: config.healthCacheTTL, metrics: metrics, logger: logger)
        let dispatcher = Dispatcher(
            metrics: metrics,
            deployRetries: RetryPolicy(attempts: 1 + config.deployMaxRetries, baseDelay: config.retryBaseDelay, maxDelay: config.retryMaxDelay),
            readRetries: { [config] env in RetryPolicy(attempts: env.retryAttempts, baseDelay: config.retryBaseDelay, maxDelay: config.retryMaxDelay) }
        )
        let manager = DeploymentManager(store: store, envs: envs, health: health, dispatcher: dispatcher, config: config)
        let background = BackgroundWork()
        self.manager = manager
        routes = PMRoutes(
            manager: manager,
            packages: PackageService(manager: manager, background: background),
            metrics: metrics,
            body: HTTPBody(maxBytes: config.maxBodyBytes),
            logger: logger
        )
        services += [
            HealthPoller(monitor: health, interval: config.healthCheckInterval),
            Reconciler(manager: manager, interval: config.reconcileInterval, maxBackoff: config.reconcileMaxBackoff, logger: logger),
            background,
        ]
        self.services = services

        await container.addReadinessCheck("pm") {
            do {
                try await store.health()
                return nil
            } catch {
                return "pm storage: \(error)"
            }
        }
        logger.info("PM ready", metadata: [
            "storage": "\(Self.describe(config.storage))",
            "envs": "\(envs.names.joined(separator: ","))",
            "default_env": "\(envs.defaultEnv ?? "-")",
        ])
    }

    /// Every `/api/v1` route, `/health`, and the JSON envelope for unknown `/api` paths (404) and wrong methods (405).
    public func register(on router: Router<BasicRequestContext>) {
        routes.register(on: router)
    }

    private static func openStorage(_ storage: PMConfig.Storage, container: ServiceContainer, logger: Logger) async throws -> any KVStore {
        switch storage {
        case .memory:
            return MemoryKVStore()
        case let .lmdb(path, mapSize):
            do {
                return try LMDBKVStore(handle: container.storage.open(path: path, options: .init(mapSizeBytes: mapSize, maxDatabases: 4)))
            } catch {
                throw ConfigurationError("STORAGE_PATH: cannot open the LMDB environment at '\(path)': \(error)")
            }
        case let .etcd(etcdConfig):
            let store = try EtcdKVStore(config: etcdConfig, logger: logger)
            await container.onShutdown { await store.shutdown() }
            return store
        }
    }

    private static func describe(_ storage: PMConfig.Storage) -> String {
        switch storage {
        case .memory: "memory"
        case let .lmdb(path, _): "lmdb:\(path)"
        case let .etcd(config): "etcd:\(config.endpoints.joined(separator: ","))"
        }
    }
}
