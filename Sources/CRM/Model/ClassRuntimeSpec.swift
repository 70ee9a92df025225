/// `ClassRuntime.spec` (control-plane spec §10.2). JSON keys are exactly the CRD's (k8s/crd/classruntimes.oaas.io.yaml);
/// collections missing from the JSON decode as empty, optional scalars as nil, and nil is never written.
public struct ClassRuntimeSpec: Codable, Sendable, Equatable {
    /// `{package}.{class}`.
    public var packageClassKey: String
    public var packageName: String?
    /// Class key, unqualified.
    public var classKey: String?
    public var deploymentKey: String?
    public var targetEnv: String?
    /// Template hint (DU `selected_template`).
    public var selectedTemplate: String?
    /// nil ⇒ ODGM on; a list ⇒ ODGM iff it contains `odgm` (case-insensitive). See `odgmAddonEnabled`.
    public var addons: [String]?
    public var functions: [Function]
    public var functionBindings: [Binding]
    public var odgmConfig: OdgmConfig?
    public var nfrRequirements: Nfr?
    public var enforcement: Enforcement?
    public var telemetry: Telemetry?

    public init(
        packageClassKey: String, packageName: String? = nil, classKey: String? = nil, deploymentKey: String? = nil,
        targetEnv: String? = nil, selectedTemplate: String? = nil, addons: [String]? = nil, functions: [Function] = [],
        functionBindings: [Binding] = [], odgmConfig: OdgmConfig? = nil, nfrRequirements: Nfr? = nil,
        enforcement: Enforcement? = nil, telemetry: Telemetry? = nil
    ) {
        self.packageClassKey = packageClassKey
        self.packageName = packageName
        self.classKey = classKey
        self.deploymentKey = deploymentKey
        self.targetEnv = targetEnv
        self.selectedTemplate = selectedTemplate
        self.addons = addons
        self.functions = functions
        self.functionBindings = functionBindings
        self.odgmConfig = odgmConfig
        self.nfrRequirements = nfrRequirements
        self.enforcement = enforcement
        self.telemetry = telemetry
    }

    /// Whether the spec asks for ODGM (the CRM-wide `OPRC_CRM_FEATURES_ODGM` switch is applied by the renderer).
    public var odgmAddonEnabled: Bool {
        guard let addons else { return true }
        return addons.contains { $0.lowercased() == "odgm" }
    }

    /// The function spec for `key`, if the unit carries it.
    public func function(_ key: String) -> Function? { functions.first { $0.functionKey == key } }

    enum CodingKeys: String, CodingKey {
        case packageClassKey = "package_class_key", packageName = "package_name", classKey = "class_key"
        case deploymentKey = "deployment_key", targetEnv = "target_env", selectedTemplate = "selected_template"
        case addons, functions, functionBindings = "function_bindings", odgmConfig = "odgm_config"
        case nfrRequirements = "nfr_requirements", enforcement, telemetry
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        packageClassKey = try c.decode(String.self, forKey: .packageClassKey)
        packageName = try c.decodeIfPresent(String.self, forKey: .packageName)
        classKey = try c.decodeIfPresent(String.self, forKey: .classKey)
        deploymentKey = try c.decodeIfPresent(String.self, forKey: .deploymentKey)
        targetEnv = try c.decodeIfPresent(String.self, forKey: .targetEnv)
        selectedTemplate = try c.decodeIfPresent(String.self, forKey: .selectedTemplate)
        addons = try c.decodeIfPresent([String].self, forKey: .addons)
        functions = try c.decodeIfPresent([Function].self, forKey: .functions) ?? []
        functionBindings = try c.decodeIfPresent([Binding].self, forKey: .functionBindings) ?? []
        odgmConfig = try c.decodeIfPresent(OdgmConfig.self, forKey: .odgmConfig)
        nfrRequirements = try c.decodeIfPresent(Nfr.self, forKey: .nfrRequirements)
        enforcement = try c.decodeIfPresent(Enforcement.self, forKey: .enforcement)
        telemetry = try c.decodeIfPresent(Telemetry.self, forKey: .telemetry)
    }
}

// MARK: - Functions and bindings

extension ClassRuntimeSpec {
    /// One function of the unit (shape of DU `FunctionDeploymentSpec`); WASM and endpoint functions are kept too.
    public struct Function: Codable, Sendable, Equatable {
        public var functionKey: String
        public var description: String?
        public var availableLocation: String?
        public var nfrRequirements: FunctionNfr?
        public var provisionConfig: ProvisionConfig?
        /// Injected as container env (§11.3).
        public var config: [String: String]

        public init(functionKey: String, description: String? = nil, availableLocation: String? = nil,
                    nfrRequirements: FunctionNfr? = nil, provisionConfig: ProvisionConfig? = nil,
                    config: [String: String] = [:]) {
            self.functionKey = functionKey
            self.description = description
            self.availableLocation = availableLocation
            self.nfrRequirements = nfrRequirements
            self.provisionConfig = provisionConfig
            self.config = config
        }

        enum CodingKeys: String, CodingKey {
            case functionKey = "function_key", description, availableLocation = "available_location"
            case nfrRequirements = "nfr_requirements", provisionConfig = "provision_config", config
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            functionKey = try c.decode(String.self, forKey: .functionKey)
            description = try c.decodeIfPresent(String.self, forKey: .description)
            availableLocation = try c.decodeIfPresent(String.self, forKey: .availableLocation)
            nfrRequirements = try c.decodeIfPresent(FunctionNfr.self, forKey: .nfrRequirements)
            provisionConfig = try c.decodeIfPresent(ProvisionConfig.self, forKey: .provisionConfig)
            config = try c.decodeIfPresent([String: String].self, forKey: .config) ?? [:]
        }
    }

    /// Per-function NFRs (DU field 7), kept for reference PMs that send NFRs only there.
    public struct FunctionNfr: Codable, Sendable, Equatable {
        public var minThroughputRps: UInt32?
        public var availability: Double?
        public var cpuUtilizationTarget: Double?
        public var maxLatencyMs: UInt32?
        public var consistency: String?

        public init(minThroughputRps: UInt32? = nil, availability: Double? = nil, cpuUtilizationTarget: Double? = nil,
                    maxLatencyMs: UInt32? = nil, consistency: String? = nil) {
            self.minThroughputRps = minThroughputRps
            self.availability = availability
            self.cpuUtilizationTarget = cpuUtilizationTarget
            self.maxLatencyMs = maxLatencyMs
            self.consistency = consistency
        }

        enum CodingKeys: String, CodingKey {
            case minThroughputRps = "min_throughput_rps", availability
            case cpuUtilizationTarget = "cpu_utilization_target", maxLatencyMs = "max_latency_ms", consistency
        }
    }

    /// How a function runs: a container image, a WASM module inside ODGM, or an external endpoint.
    public struct ProvisionConfig: Codable, Sendable, Equatable {
        public var containerImage: String?
        public var port: UInt32?
        /// nil or 0 = unlimited.
        public var maxConcurrency: UInt32?
        public var needHttp2: Bool?
        public var cpuRequest: String?
        public var memoryRequest: String?
        public var cpuLimit: String?
        public var memoryLimit: String?
        public var minScale: UInt32?
        public var maxScale: UInt32?
        public var wasmModuleUrl: String?
        public var wasmFuel: UInt64?
        public var endpointUrl: String?

        public init(containerImage: String? = nil, port: UInt32? = nil, maxConcurrency: UInt32? = nil,
                    needHttp2: Bool? = nil, cpuRequest: String? = nil, memoryRequest: String? = nil,
                    cpuLimit: String? = nil, memoryLimit: String? = nil, minScale: UInt32? = nil,
                    maxScale: UInt32? = nil, wasmModuleUrl: String? = nil, wasmFuel: UInt64? = nil,
                    endpointUrl: String? = nil) {
            self.containerImage = containerImage
            self.port = port
            self.maxConcurrency = maxConcurrency
            self.needHttp2 = needHttp2
            self.cpuRequest = cpuRequest
            self.memoryRequest = memoryRequest
            self.cpuLimit = cpuLimit
            self.memoryLimit = memoryLimit
            self.minScale = minScale
            self.maxScale = maxScale
            self.wasmModuleUrl = wasmModuleUrl
            self.wasmFuel = wasmFuel
            self.endpointUrl = endpointUrl
        }

        enum CodingKeys: String, CodingKey {
            case containerImage = "container_image", port, maxConcurrency = "max_concurrency"
            case needHttp2 = "need_http2", cpuRequest = "cpu_request", memoryRequest = "memory_request"
            case cpuLimit = "cpu_limit", memoryLimit = "memory_limit", minScale = "min_scale", maxScale = "max_scale"
            case wasmModuleUrl = "wasm_module_url", wasmFuel = "wasm_fuel", endpointUrl = "endpoint_url"
        }
    }

    /// A method of the class: binding name = invocation route key.
    public struct Binding: Codable, Sendable, Equatable {
        public var name: String
        public var functionKey: String
        public var accessModifier: String?
        public var stateless: Bool?
        public var parameters: [String]

        public init(name: String, functionKey: String, accessModifier: String? = nil, stateless: Bool? = nil,
                    parameters: [String] = []) {
            self.name = name
            self.functionKey = functionKey
            self.accessModifier = accessModifier
            self.stateless = stateless
            self.parameters = parameters
        }

        enum CodingKeys: String, CodingKey {
            case name, functionKey = "function_key", accessModifier = "access_modifier", stateless, parameters
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            functionKey = try c.decode(String.self, forKey: .functionKey)
            accessModifier = try c.decodeIfPresent(String.self, forKey: .accessModifier)
            stateless = try c.decodeIfPresent(Bool.self, forKey: .stateless)
            parameters = try c.decodeIfPresent([String].self, forKey: .parameters) ?? []
        }
    }
}

// MARK: - NFRs, enforcement, telemetry

extension ClassRuntimeSpec {
    /// Class-level NFRs (DU `nfr`), the input of template selection and replica sizing (§11.1).
    public struct Nfr: Codable, Sendable, Equatable {
        public var minThroughputRps: UInt32?
        public var maxLatencyMs: UInt32?
        /// Availability × 100 (`99.9`).
        public var availabilityPct: Double?
        /// `strong`, `bounded_staleness`, `read_your_write`, `eventual`.
        public var consistency: String?
        public var cpuUtilizationTarget: Double?

        public init(minThroughputRps: UInt32? = nil, maxLatencyMs: UInt32? = nil, availabilityPct: Double? = nil,
                    consistency: String? = nil, cpuUtilizationTarget: Double? = nil) {
            self.minThroughputRps = minThroughputRps
            self.maxLatencyMs = maxLatencyMs
            self.availabilityPct = availabilityPct
            self.consistency = consistency
            self.cpuUtilizationTarget = cpuUtilizationTarget
        }

        /// True when no field is set: template selection then falls to the profile default.
        public var isEmpty: Bool {
            minThroughputRps == nil && maxLatencyMs == nil && availabilityPct == nil && consistency == nil
                && cpuUtilizationTarget == nil
        }

        enum CodingKeys: String, CodingKey {
            case minThroughputRps = "min_throughput_rps", maxLatencyMs = "max_latency_ms"
            case availabilityPct = "availability_pct", consistency, cpuUtilizationTarget = "cpu_utilization_target"
        }
    }

    /// NFR phase 3 opt-in.
    public struct Enforcement: Codable, Sendable, Equatable {
        /// `off` | `observe` | `enforce`; nil = `observe`.
        public var mode: String?
        /// `replicas` | `cpu` | `memory`.
        public var dimensions: [String]

        public init(mode: String? = nil, dimensions: [String] = []) {
            self.mode = mode
            self.dimensions = dimensions
        }

        public var effectiveMode: String { mode ?? "observe" }

        enum CodingKeys: String, CodingKey { case mode, dimensions }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            mode = try c.decodeIfPresent(String.self, forKey: .mode)
            dimensions = try c.decodeIfPresent([String].self, forKey: .dimensions) ?? []
        }
    }

    /// OTEL env injection (DU 12).
    public struct Telemetry: Codable, Sendable, Equatable {
        public var enabled: Bool?
        public var traces: Bool?
        public var metrics: Bool?
        public var logs: Bool?
        public var samplingRate: Double?
        public var serviceName: String?
        public var resourceAttributes: [String: String]

        public init(enabled: Bool? = nil, traces: Bool? = nil, metrics: Bool? = nil, logs: Bool? = nil,
                    samplingRate: Double? = nil, serviceName: String? = nil, resourceAttributes: [String: String] = [:]) {
            self.enabled = enabled
            self.traces = traces
            self.metrics = metrics
            self.logs = logs
            self.samplingRate = samplingRate
            self.serviceName = serviceName
            self.resourceAttributes = resourceAttributes
        }

        /// `enabled` defaults to true when the block is present (§2.3).
        public var isEnabled: Bool { enabled ?? true }

        enum CodingKeys: String, CodingKey {
            case enabled, traces, metrics, logs, samplingRate = "sampling_rate", serviceName = "service_name"
            case resourceAttributes = "resource_attributes"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled)
            traces = try c.decodeIfPresent(Bool.self, forKey: .traces)
            metrics = try c.decodeIfPresent(Bool.self, forKey: .metrics)
            logs = try c.decodeIfPresent(Bool.self, forKey: .logs)
            samplingRate = try c.decodeIfPresent(Double.self, forKey: .samplingRate)
            serviceName = try c.decodeIfPresent(String.self, forKey: .serviceName)
            resourceAttributes = try c.decodeIfPresent([String: String].self, forKey: .resourceAttributes) ?? [:]
        }
    }
}
