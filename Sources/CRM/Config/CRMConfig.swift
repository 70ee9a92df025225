import Foundation
import Kube
import OaaSCore

/// CRM settings (control-plane spec §9.1), read once at start. Bad values are reported to the `EnvReader` (one line
/// per variable) and the default is kept; the caller stops start-up with `env.validate()`.
public struct CRMConfig: Sendable {
    // MARK: Listeners (§1)
    /// `OPRC_CRM_HTTP_PORT`, else `HTTP_PORT` (8088): probes, metrics and gRPC (h2c) on one port.
    public var httpPort: Int
    /// `OPRC_CRM_GRPC_PORT`, else `GRPC_PORT`, else `httpPort`; a different value adds a gRPC-only listener.
    public var grpcPort: Int

    // MARK: Identity and scope
    public var profile: CRMProfile
    /// Namespace watched and written (`OPRC_CRM_K8S_NAMESPACE`, else the pod's namespace file, else `default`).
    public var namespace: String
    /// Env name reported to PM (`OPRC_CRM_ENV_NAME`, default = namespace).
    public var envName: String
    /// `POD_NAME`, else the host name: Lease identity prefix and Event `reportingInstance`.
    public var podName: String

    // MARK: Features
    public var odgmEnabled: Bool
    /// The knative template is registered only when this is on and `serving.knative.dev/v1` is served.
    public var knativeEnabled: Bool
    public var hpaEnabled: Bool
    public var nfrEnforcementEnabled: Bool
    public var leaderElectionEnabled: Bool

    // MARK: NFR analyzer / enforcer (phases 2 and 3; read here, consumed by those loops)
    public var enforcementCooldown: Duration
    public var enforcementStability: Duration
    /// Largest replica step in percent of the current value (at least 1 replica).
    public var enforcementMaxReplicaDeltaPercent: Int
    public var analyzerInterval: Duration
    public var prometheusURL: String?
    public var prometheusQueryTimeout: Duration
    /// Prometheus range and step, in Prometheus duration syntax (`10m`, `30s`).
    public var prometheusRange: String
    public var prometheusStep: String
    /// Query overrides (`OPRC_CRM_PROM_Q_RPS`, `_Q_P99`, `_Q_CPU`, `_Q_MEM`).
    public var prometheusQueries: [String: String]

    // MARK: Sizing
    public var maxReplicas: Int
    public var requestCPUPerPodMillis: Int
    public var rpsPerReplica: Int

    // MARK: ODGM template
    /// `OPRC_CRM_TEMPLATES_ODGM_IMAGE`, else `OAAS_IMAGE`.
    public var odgmImage: String?
    public var odgmPullPolicy: String?
    /// `OPRC_CRM_TEMPLATES_ODGM_EXTRA_ENV` (`K=V,K=V`), appended last, in the given order.
    public var odgmExtraEnv: [(String, String)]
    public var odgmPVCSize: String
    public var odgmStorageClass: String?
    public var odgmRetainPVC: Bool

    // MARK: Controller
    public var maxConcurrentReconciles: Int
    public var clusterDomain: String
    public var leaseName: String
    public var timings: CRMTimings

    // MARK: Environment traits (template heuristics, CR labels)
    public var envIsEdge: Bool
    public var envIsDatacenter: Bool
    public var region: String?
    public var zone: String?
    public var hardwareClass: String?
    /// `OPRC_MOCK_CLUSTER_AVAILABILITY`, clamped to [0, 1].
    public var mockClusterAvailability: Double?
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` of the CRM process, injected into workloads whose unit enables telemetry.
    public var otelEndpoint: String?

    /// Non-fatal remarks for the start-up log (accepted-but-ignored variables).
    public var warnings: [String]

    /// Reads every §9.1 variable from `env`. `serviceAccountDirectory` is where the pod's namespace file lives
    /// (injectable for tests).
    public init(env: EnvReader, serviceAccountDirectory: String = KubeConfig.defaultServiceAccountDirectory) {
        var bare = env
        bare.prefixes = []
        let crm = env.withPrefix("OPRC_CRM_")
        var warnings: [String] = []

        httpPort = crm.int("HTTP_PORT", default: 8088, range: 1...65_535)
        grpcPort = crm.int("GRPC_PORT", default: httpPort, range: 1...65_535)

        if let (variable, raw) = bare.lookup("OPRC_CRM_PROFILE") {
            if let parsed = CRMProfile(parsing: raw) {
                profile = parsed
            } else {
                bare.report("\(variable): '\(raw)' is not a profile (dev, edge, full, prod, production, cloud)")
                profile = .dev
            }
        } else {
            profile = .dev
        }

        namespace = Self.readNamespace(bare, serviceAccountDirectory: serviceAccountDirectory)
        envName = bare.string("OPRC_CRM_ENV_NAME") ?? namespace
        podName = bare.string("POD_NAME") ?? Self.hostName()

        odgmEnabled = bare.bool("OPRC_CRM_FEATURES_ODGM", default: true)
        if bare.lookup("OPRC_CRM_FEATURES_FSM") != nil {
            warnings.append("OPRC_CRM_FEATURES_FSM is accepted and ignored: the state machine is always on")
        }
        knativeEnabled = bare.bool("OPRC_CRM_FEATURES_KNATIVE", default: true)
        hpaEnabled = bare.bool("OPRC_CRM_FEATURES_HPA", default: profile.hpaDefault)
        nfrEnforcementEnabled = bare.bool("OPRC_CRM_FEATURES_NFR_ENFORCEMENT", default: profile.nfrEnforcementDefault)
        leaderElectionEnabled = bare.bool("OPRC_CRM_FEATURES_LEADER_ELECTION", default: profile.leaderElectionDefault)
        if bare.lookup("OPRC_CRM_FEATURES_PROMETHEUS") != nil {
            warnings.append("OPRC_CRM_FEATURES_PROMETHEUS is informational: the analyzer runs iff OPRC_CRM_PROM_URL is set")
        }

        enforcementCooldown = Self.seconds(bare, "OPRC_CRM_ENFORCEMENT_COOLDOWN_SECS", 120, range: 0...86_400)
        enforcementStability = Self.seconds(bare, "OPRC_CRM_ENFORCEMENT_STABILITY_SECS", 180, range: 0...86_400)
        enforcementMaxReplicaDeltaPercent = bare.int("OPRC_CRM_ENFORCEMENT_MAX_REPLICA_DELTA", default: 30, range: 1...1000)
        analyzerInterval = Self.seconds(bare, "OPRC_CRM_ANALYZER_INTERVAL_SECS", 60, range: 1...86_400)
        prometheusURL = Self.url(bare, "OPRC_CRM_PROM_URL")
        prometheusQueryTimeout = Self.seconds(bare, "OPRC_CRM_PROM_QUERY_TIMEOUT_SECS", 5, range: 1...600)
        prometheusRange = Self.promDuration(bare, "OPRC_CRM_PROM_RANGE", default: "10m")
        prometheusStep = Self.promDuration(bare, "OPRC_CRM_PROM_STEP", default: "30s")
        var queries: [String: String] = [:]
        for (key, variable) in [("rps", "OPRC_CRM_PROM_Q_RPS"), ("p99", "OPRC_CRM_PROM_Q_P99"),
                                ("cpu", "OPRC_CRM_PROM_Q_CPU"), ("mem", "OPRC_CRM_PROM_Q_MEM")] {
            if let query = bare.string(variable) { queries[key] = query }
        }
        prometheusQueries = queries

        maxReplicas = bare.int("OPRC_CRM_LIMITS_MAX_REPLICAS", default: 20, range: 1...10_000)
        requestCPUPerPodMillis = bare.int("OPRC_CRM_REQ_CPU_PER_POD_M", default: 500, range: 1...1_000_000)
        rpsPerReplica = bare.int("OPRC_CRM_RPS_PER_REPLICA", default: 500, range: 1...10_000_000)

        odgmImage = bare.string("OPRC_CRM_TEMPLATES_ODGM_IMAGE") ?? bare.string("OAAS_IMAGE")
        odgmPullPolicy = Self.pullPolicy(bare, "OPRC_CRM_TEMPLATES_ODGM_PULL_POLICY")
        odgmExtraEnv = Self.extraEnv(bare, "OPRC_CRM_TEMPLATES_ODGM_EXTRA_ENV")
        odgmPVCSize = Self.quantity(bare, "OPRC_CRM_ODGM_PVC_SIZE", default: "1Gi")
        odgmStorageClass = bare.string("OPRC_CRM_ODGM_STORAGE_CLASS")
        odgmRetainPVC = bare.bool("OPRC_CRM_ODGM_RETAIN_PVC", default: false)

        var timings = CRMTimings()
        timings.progressDeadline = Self.seconds(bare, "OPRC_CRM_PROGRESS_DEADLINE_SECS", 600, range: 1...604_800)
        timings.deleteTimeout = Self.seconds(bare, "OPRC_CRM_DELETE_TIMEOUT_SECS", 300, range: 1...604_800)
        timings.resync = Self.seconds(bare, "OPRC_CRM_RESYNC_SECS", 600, range: 1...604_800)
        timings.kubeCallTimeout = Self.seconds(bare, "OPRC_CRM_K8S_CALL_TIMEOUT_SECS", 10, range: 1...600)
        timings.leaseDuration = Self.seconds(bare, "OPRC_CRM_LEASE_DURATION_SECS", 15, range: 1...3600)
        timings.renewDeadline = Self.seconds(bare, "OPRC_CRM_RENEW_DEADLINE_SECS", 10, range: 1...3600)
        timings.retryPeriod = Self.seconds(bare, "OPRC_CRM_RETRY_PERIOD_SECS", 2, range: 1...3600)
        if timings.renewDeadline >= timings.leaseDuration {
            bare.report("OPRC_CRM_RENEW_DEADLINE_SECS: must be shorter than OPRC_CRM_LEASE_DURATION_SECS")
        } else if timings.retryPeriod >= timings.renewDeadline {
            bare.report("OPRC_CRM_RETRY_PERIOD_SECS: must be shorter than OPRC_CRM_RENEW_DEADLINE_SECS")
        }
        maxConcurrentReconciles = bare.int("OPRC_CRM_MAX_CONCURRENT_RECONCILES", default: 4, range: 1...256)
        clusterDomain = Self.clusterDomain(bare)
        leaseName = Self.leaseName(bare)
        self.timings = timings

        envIsEdge = bare.bool("OPRC_ENV_IS_EDGE", default: false)
        envIsDatacenter = bare.bool("OPRC_ENV_IS_DATACENTER", default: false)
        region = bare.string("OPRC_ENV_REGION")
        zone = bare.string("OPRC_ENV_ZONE")
        hardwareClass = bare.string("OPRC_ENV_HW_CLASS")
        mockClusterAvailability = Self.availability(bare, "OPRC_MOCK_CLUSTER_AVAILABILITY")
        otelEndpoint = Self.url(bare, "OTEL_EXPORTER_OTLP_ENDPOINT")

        if bare.lookup("OPRC_CRM_SECURITY_MTLS") != nil {
            warnings.append("OPRC_CRM_SECURITY_MTLS is ignored: use https CRM URLs with OPRC_CRM_TLS_CERT and OPRC_CRM_TLS_KEY")
        }
        self.warnings = warnings
    }
}

// MARK: Parsing helpers

extension CRMConfig {
    static func seconds(_ env: EnvReader, _ name: String, _ value: Int64, range: ClosedRange<Int64>) -> Duration {
        .seconds(env.int(name, default: value, range: range))
    }

    static func hostName() -> String {
        let host = ProcessInfo.processInfo.hostName
        return host.isEmpty ? "oaas-crm" : host
    }

    /// Explicit variable, else the pod's namespace file, else `default`; must be an RFC 1123 label.
    static func readNamespace(_ env: EnvReader, serviceAccountDirectory: String) -> String {
        if let (variable, raw) = env.lookup("OPRC_CRM_K8S_NAMESPACE") {
            guard isDNSLabel(raw) else {
                env.report("\(variable): '\(raw)' is not a valid namespace name (RFC 1123 label)")
                return "default"
            }
            return raw
        }
        let directory = serviceAccountDirectory.hasSuffix("/") ? String(serviceAccountDirectory.dropLast())
            : serviceAccountDirectory
        if let data = FileManager.default.contents(atPath: directory + "/namespace") {
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if isDNSLabel(value) { return value }
        }
        return "default"
    }

    static func isDNSLabel(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alnum(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 0x2D }
    }

    static func clusterDomain(_ env: EnvReader) -> String {
        guard let (variable, raw) = env.lookup("OPRC_CRM_CLUSTER_DOMAIN") else { return "cluster.local" }
        let labels = raw.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.allSatisfy(isDNSLabel) else {
            env.report("\(variable): '\(raw)' is not a DNS domain")
            return "cluster.local"
        }
        return raw
    }

    static func leaseName(_ env: EnvReader) -> String {
        guard let (variable, raw) = env.lookup("OPRC_CRM_LEASE_NAME") else { return "oaas-crm-leader" }
        let labels = raw.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard raw.count <= 253, labels.allSatisfy(isDNSLabel) else {
            env.report("\(variable): '\(raw)' is not a valid object name (RFC 1123 subdomain)")
            return "oaas-crm-leader"
        }
        return raw
    }

    static func url(_ env: EnvReader, _ name: String) -> String? {
        guard let (variable, raw) = env.lookup(name) else { return nil }
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else {
            env.report("\(variable): '\(raw)' is not an http(s) URL with a host")
            return nil
        }
        return raw
    }

    /// Prometheus duration: digits followed by one of ms, s, m, h, d, w, y.
    static func promDuration(_ env: EnvReader, _ name: String, default value: String) -> String {
        guard let (variable, raw) = env.lookup(name) else { return value }
        let units = ["ms", "s", "m", "h", "d", "w", "y"]
        let digits = raw.prefix { $0.isASCII && $0.isNumber }
        let unit = String(raw.dropFirst(digits.count))
        guard !digits.isEmpty, units.contains(unit), Int(digits).map({ $0 > 0 }) == true else {
            env.report("\(variable): '\(raw)' is not a Prometheus duration such as 30s or 10m")
            return value
        }
        return raw
    }

    static func pullPolicy(_ env: EnvReader, _ name: String) -> String? {
        guard let (variable, raw) = env.lookup(name) else { return nil }
        let allowed = ["Always", "IfNotPresent", "Never"]
        guard let match = allowed.first(where: { $0.lowercased() == raw.lowercased() }) else {
            env.report("\(variable): '\(raw)' is not Always, IfNotPresent or Never")
            return nil
        }
        return match
    }

    /// `K=V,K=V`; keys must be environment-variable names.
    static func extraEnv(_ env: EnvReader, _ name: String) -> [(String, String)] {
        guard let (variable, raw) = env.lookup(name) else { return [] }
        var result: [(String, String)] = []
        for (index, entry) in raw.split(separator: ",", omittingEmptySubsequences: true).enumerated() {
            guard let equals = entry.firstIndex(of: "=") else {
                env.report("\(variable): entry \(index) '\(entry)' is not KEY=VALUE")
                continue
            }
            let key = entry[..<equals].trimmingCharacters(in: .whitespaces)
            let value = String(entry[entry.index(after: equals)...])
            guard isEnvName(key) else {
                env.report("\(variable): entry \(index) key '\(key)' is not an environment variable name")
                continue
            }
            result.append((key, value))
        }
        return result
    }

    static func isEnvName(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// A Kubernetes quantity such as `1Gi`, `500M` or `10`.
    static func quantity(_ env: EnvReader, _ name: String, default value: String) -> String {
        guard let (variable, raw) = env.lookup(name) else { return value }
        guard isQuantity(raw) else {
            env.report("\(variable): '\(raw)' is not a Kubernetes quantity (e.g. 1Gi, 500Mi)")
            return value
        }
        return raw
    }

    static func isQuantity(_ raw: String) -> Bool {
        let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"]
        let number = raw.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }
        let suffix = String(raw.dropFirst(number.count))
        guard !number.isEmpty, Double(number) != nil else { return false }
        if suffixes.contains(suffix) { return true }
        // Decimal exponent form: 1e3, 1E3.
        if let first = suffix.first, first == "e" || first == "E" { return Int(suffix.dropFirst()) != nil }
        return false
    }

    static func availability(_ env: EnvReader, _ name: String) -> Double? {
        guard let (variable, raw) = env.lookup(name) else { return nil }
        guard let value = Double(raw.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            env.report("\(variable): '\(raw)' is not a number")
            return nil
        }
        return min(1, max(0, value))
    }
}
