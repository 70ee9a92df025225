/// A deployment of one class of a package to one or more envs (spec §2.3).
public struct OClassDeployment: Sendable, Equatable, Codable {
    /// Logical id and storage key.
    public var key: String
    public var packageName: String
    public var classKey: String
    /// Explicit envs; empty = PM places (spec §5.2). PM returns the effective selection.
    public var targetEnvs: [String]
    /// Allow-list for automatic placement.
    public var availableEnvs: [String]
    public var nfrRequirements: NfrRequirements
    /// Per-env template hint (`dev`, `edge`, `cloud`, `knative` or an alias).
    public var envTemplates: [String: String]
    /// Per-function overrides; empty = every bound function.
    public var functions: [FunctionDeploymentSpec]
    /// ODGM data section; PM fills the defaults.
    public var odgm: OdgmDataSpec?
    public var telemetry: TelemetryConfig?
    /// NFR phase 3 opt-in.
    public var enforcement: EnforcementConfig?

    // Server-owned (ignored on input, spec §2 rule 4).
    public var condition: DeploymentCondition
    public var status: DeploymentStatusSummary?
    /// Spec revision: max(previous + 1, now in Unix ms), bumped by user writes only.
    public var revision: UInt64?
    public var createdAt: String?
    public var updatedAt: String?

    public init(
        key: String,
        packageName: String,
        classKey: String,
        targetEnvs: [String] = [],
        availableEnvs: [String] = [],
        nfrRequirements: NfrRequirements = NfrRequirements(),
        envTemplates: [String: String] = [:],
        functions: [FunctionDeploymentSpec] = [],
        odgm: OdgmDataSpec? = nil,
        telemetry: TelemetryConfig? = nil,
        enforcement: EnforcementConfig? = nil,
        condition: DeploymentCondition = .pending,
        status: DeploymentStatusSummary? = nil,
        revision: UInt64? = nil,
        createdAt: String? = nil,
        updatedAt: String? = nil
    ) {
        self.key = key
        self.packageName = packageName
        self.classKey = classKey
        self.targetEnvs = targetEnvs
        self.availableEnvs = availableEnvs
        self.nfrRequirements = nfrRequirements
        self.envTemplates = envTemplates
        self.functions = functions
        self.odgm = odgm
        self.telemetry = telemetry
        self.enforcement = enforcement
        self.condition = condition
        self.status = status
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The qualified class id `{package}.{class_key}` (spec §0), the default ODGM collection name.
    public var qualifiedClassId: String { "\(packageName).\(classKey)" }

    /// The user-written part only (server-owned fields cleared), e.g. to compare two specs.
    public var userSpec: OClassDeployment {
        var copy = self
        copy.condition = .pending
        copy.status = nil
        copy.revision = nil
        copy.createdAt = nil
        copy.updatedAt = nil
        return copy
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

/// Per-function override in a deployment (spec §2.3), overlaid field-wise on the package function.
public struct FunctionDeploymentSpec: Sendable, Equatable, Codable {
    /// Must be bound by the class.
    public var functionKey: String
    public var description: String?
    public var availableLocation: String?
    /// Accepted, unused.
    public var qosRequirement: QosRequirement?
    public var provisionConfig: ProvisionConfig?
    public var config: [String: String]

    public init(
        functionKey: String,
        description: String? = nil,
        availableLocation: String? = nil,
        qosRequirement: QosRequirement? = nil,
        provisionConfig: ProvisionConfig? = nil,
        config: [String: String] = [:]
    ) {
        self.functionKey = functionKey
        self.description = description
        self.availableLocation = availableLocation
        self.qosRequirement = qosRequirement
        self.provisionConfig = provisionConfig
        self.config = config
    }

    /// The effective spec of `function` in a deployment (spec §5.1): the package function's description,
    /// provision config and config, overlaid field-wise by `override` (config entries of the override win).
    public static func effective(for function: OFunction, override: FunctionDeploymentSpec?) -> FunctionDeploymentSpec {
        let provision: ProvisionConfig? = switch (function.provisionConfig, override?.provisionConfig) {
        case (nil, nil): nil
        case let (base?, top): base.overlaid(by: top)
        case let (nil, top?): top
        }
        return FunctionDeploymentSpec(
            functionKey: function.key,
            description: override?.description ?? function.description,
            availableLocation: override?.availableLocation,
            qosRequirement: override?.qosRequirement,
            provisionConfig: provision,
            config: function.config.merging(override?.config ?? [:]) { _, top in top }
        )
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

/// `qos_requirement` of a function override: accepted, unused.
public struct QosRequirement: Sendable, Equatable, Codable {
    public var throughput: UInt32
    public var availability: Double?

    public init(throughput: UInt32 = 0, availability: Double? = nil) {
        self.throughput = throughput
        self.availability = availability
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

/// The NFR phase 3 opt-in block (spec §2.3 `enforcement`, §12).
public struct EnforcementConfig: Sendable, Equatable, Codable {
    public var mode: EnforcementMode
    public var dimensions: [EnforcementDimension]

    public init(mode: EnforcementMode = .observe, dimensions: [EnforcementDimension] = [.replicas]) {
        self.mode = mode
        self.dimensions = dimensions
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

extension OClassDeployment: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            key: object.string("key") ?? "",
            packageName: object.string("package_name") ?? "",
            classKey: object.string("class_key") ?? "",
            targetEnvs: object.stringList("target_envs") ?? [],
            availableEnvs: object.stringList("available_envs") ?? [],
            nfrRequirements: object.object("nfr_requirements", NfrRequirements.init(reading:)) ?? NfrRequirements(),
            envTemplates: object.stringMap("env_templates") ?? [:],
            functions: object.objects("functions", FunctionDeploymentSpec.init(reading:)) ?? [],
            odgm: object.object("odgm", OdgmDataSpec.init(reading:)),
            telemetry: object.object("telemetry", TelemetryConfig.init(reading:)),
            enforcement: object.object("enforcement", EnforcementConfig.init(reading:)),
            condition: object.serverOwned("condition") { $0.enumeration(DeploymentCondition.self) } ?? .pending,
            status: object.serverOwned("status") { $0.object(DeploymentStatusSummary.init(reading:)) },
            revision: object.serverOwned("revision") { $0.unsigned(UInt64.self) },
            createdAt: object.serverOwned("created_at") { $0.string() },
            updatedAt: object.serverOwned("updated_at") { $0.string() }
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("key", key)
        writer.add("package_name", packageName)
        writer.add("class_key", classKey)
        writer.add("target_envs", targetEnvs)
        writer.add("available_envs", availableEnvs)
        writer.add("nfr_requirements", nfrRequirements)
        writer.add("env_templates", envTemplates)
        writer.add("functions", functions)
        writer.add("odgm", odgm)
        writer.add("telemetry", telemetry)
        writer.add("enforcement", enforcement)
        writer.add("condition", condition)
        writer.add("status", status)
        writer.add("revision", revision)
        writer.add("created_at", createdAt)
        writer.add("updated_at", updatedAt)
        return writer.value
    }
}

extension FunctionDeploymentSpec: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            functionKey: object.string("function_key") ?? "",
            description: object.string("description"),
            availableLocation: object.string("available_location"),
            qosRequirement: object.object("qos_requirement", QosRequirement.init(reading:)),
            provisionConfig: object.object("provision_config", ProvisionConfig.init(reading:)),
            config: object.stringMap("config") ?? [:]
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("function_key", functionKey)
        writer.add("description", description)
        writer.add("available_location", availableLocation)
        writer.add("qos_requirement", qosRequirement)
        writer.add("provision_config", provisionConfig)
        writer.add("config", config)
        return writer.value
    }
}

extension QosRequirement: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(throughput: object.uint32("throughput") ?? 0, availability: object.double("availability"))
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("throughput", throughput)
        writer.add("availability", availability)
        return writer.value
    }
}

extension EnforcementConfig: ObjectReadable {
    init(reading object: ObjectReader) {
        let dimensions = object["dimensions"]?.list()?.compactMap { $0.enumeration(EnforcementDimension.self) }
        self.init(
            mode: object.enumeration("mode", EnforcementMode.self) ?? .observe,
            dimensions: dimensions ?? [.replicas]
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("mode", mode)
        writer.add("dimensions", .array(dimensions.map { DocumentValue($0.rawValue) }))
        return writer.value
    }
}
