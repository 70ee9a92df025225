import Foundation
import OaaSCore

/// PM settings (control-plane spec §7). Every bad value is reported to the `EnvReader` with its variable name; the
/// caller stops start-up with `env.validate()` (exit 2). Durations are public so tests and `oaas dev` can shorten them.
public struct PMConfig: Sendable {
    /// What the caller may change before the environment is read: `oaas dev` passes its flags here.
    public struct Defaults: Sendable {
        public var host: String
        public var port: Int
        /// False under `oaas dev`: `SERVER_HOST`/`SERVER_PORT` are ignored and the flags decide (spec §13).
        public var listenerFromEnv: Bool
        public var storagePath: String
        /// Forces the memory backend (`oaas dev --memory`), whatever `STORAGE_TYPE` says.
        public var memoryStorage: Bool
        /// Under `oaas dev`, unknown envs of a deployment are mapped to this env with a warning (spec §13).
        public var unknownEnvFallback: String?

        public init(
            host: String = "0.0.0.0",
            port: Int = 8080,
            listenerFromEnv: Bool = true,
            storagePath: String = ".oaas/pm",
            memoryStorage: Bool = false,
            unknownEnvFallback: String? = nil
        ) {
            self.host = host
            self.port = port
            self.listenerFromEnv = listenerFromEnv
            self.storagePath = storagePath
            self.memoryStorage = memoryStorage
            self.unknownEnvFallback = unknownEnvFallback
        }
    }

    /// The storage backend of spec §6.
    public enum Storage: Sendable, Equatable {
        case lmdb(path: String, mapSizeBytes: Int)
        case etcd(EtcdConfig)
        case memory
    }

    public var host: String
    public var port: Int
    public var storage: Storage
    /// Configured envs, sorted by name.
    public var envs: [CRMEnvConfig]
    /// `CRM_DEFAULT_CLUSTER`, else `default`, else the first env by name; nil without envs.
    public var defaultEnv: String?
    public var healthCacheTTL: Duration
    public var healthCheckInterval: Duration
    /// Deploy attempts per env = 1 + this.
    public var deployMaxRetries: Int
    public var rollbackOnPartial: Bool
    public var reconcileInterval: Duration
    /// First retry delay of a dispatch (doubled per attempt, ±20 % jitter).
    public var retryBaseDelay: Duration
    public var retryMaxDelay: Duration
    /// Cap of the reconciler's per-env backoff.
    public var reconcileMaxBackoff: Duration
    /// Default of `?cascade` on package deletes.
    public var deleteCascade: Bool
    /// `p(env)` when a CRM reports neither availability nor node counts.
    public var assumedEnvAvailability: Double
    public var maxBodyBytes: Int
    /// Allowed CORS origins; `["*"]` allows every origin.
    public var corsOrigins: [String]
    public var metricsEnabled: Bool
    public var unknownEnvFallback: String?
    /// Accepted-but-ignored settings and other notes to log at start.
    public var warnings: [String]

    public init(env: EnvReader, defaults: Defaults = Defaults()) {
        var bare = env
        bare.prefixes = []
        host = defaults.listenerFromEnv ? bare.string("SERVER_HOST", default: defaults.host) : defaults.host
        port = defaults.listenerFromEnv ? bare.int("SERVER_PORT", default: defaults.port, range: 0...65_535) : defaults.port
        storage = Self.storage(bare, defaults: defaults)

        var parser = CRMClusterParser(env: bare)
        envs = parser.parse()
        warnings = parser.warnings
        defaultEnv = CRMClusterParser.defaultEnv(explicit: bare.string("CRM_DEFAULT_CLUSTER"), names: envs.map(\.name))

        healthCacheTTL = .seconds(bare.int("CRM_HEALTH_CACHE_TTL", default: 15, range: 0...86_400))
        healthCheckInterval = .seconds(bare.int("CRM_HEALTH_CHECK_INTERVAL", default: 60, range: 1...86_400))
        deployMaxRetries = bare.int("DEPLOY_MAX_RETRIES", default: 2, range: 0...20)
        rollbackOnPartial = bare.bool("DEPLOY_ROLLBACK_ON_PARTIAL", default: false)
        reconcileInterval = .seconds(bare.int("DEPLOY_RECONCILE_INTERVAL", default: 30, range: 1...86_400))
        retryBaseDelay = .milliseconds(200)
        retryMaxDelay = .seconds(5)
        reconcileMaxBackoff = .seconds(300)
        deleteCascade = bare.bool("PACKAGE_DELETE_CASCADE", default: false)
        assumedEnvAvailability = Self.ratio(bare, "PM_ASSUMED_ENV_AVAILABILITY", default: 0.99)
        maxBodyBytes = bare.int("PM_MAX_BODY_BYTES", default: 8_388_608, range: 1...Int(Int32.max))
        corsOrigins = bare.string("PM_CORS_ORIGINS", default: "*")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        metricsEnabled = bare.bool("METRICS_ENABLED", default: true)
        unknownEnvFallback = defaults.unknownEnvFallback

        for knob in ["SERVER_WORKERS", "METRICS_PORT"] where bare.lookup(knob) != nil {
            warnings.append("\(knob) is accepted for compatibility and ignored")
        }
        for name in bare.values.keys.sorted() where name.hasPrefix("CRM_CIRCUIT_BREAKER_") {
            warnings.append("\(name) is accepted for compatibility and ignored (PM retries with backoff instead)")
        }
    }

    /// A configuration without the environment (tests): memory storage, no envs, spec defaults.
    public init(envs: [CRMEnvConfig] = [], storage: Storage = .memory) {
        self.init(env: EnvReader([:]), defaults: Defaults(memoryStorage: storage == .memory))
        self.storage = storage
        self.envs = envs.sorted { $0.name < $1.name }
        self.defaultEnv = CRMClusterParser.defaultEnv(explicit: nil, names: self.envs.map(\.name))
    }

    private static func storage(_ env: EnvReader, defaults: Defaults) -> Storage {
        let path = env.string("STORAGE_PATH", default: defaults.storagePath)
        let mapSize = env.int("STORAGE_LMDB_MAP_SIZE", default: 1_073_741_824, range: 1_048_576...(1 << 40))
        if defaults.memoryStorage { return .memory }
        let raw = env.lookup("STORAGE_TYPE")
        switch raw?.value.lowercased() ?? "lmdb" {
        case "lmdb": return .lmdb(path: path, mapSizeBytes: mapSize)
        case "etcd": return .etcd(EtcdConfig(env: env))
        case "memory": return .memory
        default:
            env.report("\(raw?.name ?? "STORAGE_TYPE"): '\(raw?.value ?? "")' is not a storage type (lmdb, etcd, memory)")
            return .memory
        }
    }

    private static func ratio(_ env: EnvReader, _ name: String, default value: Double) -> Double {
        guard let (variable, raw) = env.lookup(name) else { return value }
        guard let parsed = Double(raw.trimmingCharacters(in: .whitespaces)), parsed > 0, parsed <= 1 else {
            env.report("\(variable): '\(raw)' is not a ratio in (0, 1]")
            return value
        }
        return parsed
    }
}
