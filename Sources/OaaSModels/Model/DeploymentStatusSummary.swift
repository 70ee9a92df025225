/// Server-owned status of a deployment (spec §2.3 `status`).
public struct DeploymentStatusSummary: Sendable, Equatable, Codable {
    /// ODGM replicas per partition.
    public var replicationFactor: UInt32
    public var selectedEnvs: [String]
    public var achievedQuorumAvailability: Double?
    /// Last dispatch or delete error.
    public var lastError: String?
    /// Per-env state.
    public var envs: [String: EnvDeploymentState]
    /// Copied from CRM status (spec §12): free-form per env.
    public var nfrRecommendations: [String: DocumentValue]

    public init(
        replicationFactor: UInt32 = 0,
        selectedEnvs: [String] = [],
        achievedQuorumAvailability: Double? = nil,
        lastError: String? = nil,
        envs: [String: EnvDeploymentState] = [:],
        nfrRecommendations: [String: DocumentValue] = [:]
    ) {
        self.replicationFactor = replicationFactor
        self.selectedEnvs = selectedEnvs
        self.achievedQuorumAvailability = achievedQuorumAvailability
        self.lastError = lastError
        self.envs = envs
        self.nfrRecommendations = nfrRecommendations
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

/// State of one env of a deployment (spec §2.3 `status.envs`).
public struct EnvDeploymentState: Sendable, Equatable, Codable {
    public var unitId: String
    public var dispatch: DispatchState
    public var condition: DeploymentCondition
    public var message: String?
    public var lastError: String?
    public var attempts: UInt32
    /// RFC 3339.
    public var lastAttemptAt: String?

    public init(
        unitId: String,
        dispatch: DispatchState = .pending,
        condition: DeploymentCondition = .pending,
        message: String? = nil,
        lastError: String? = nil,
        attempts: UInt32 = 0,
        lastAttemptAt: String? = nil
    ) {
        self.unitId = unitId
        self.dispatch = dispatch
        self.condition = condition
        self.message = message
        self.lastError = lastError
        self.attempts = attempts
        self.lastAttemptAt = lastAttemptAt
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

extension DeploymentStatusSummary: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            replicationFactor: object.uint32("replication_factor") ?? 0,
            selectedEnvs: object.stringList("selected_envs") ?? [],
            achievedQuorumAvailability: object.double("achieved_quorum_availability"),
            lastError: object.string("last_error"),
            envs: object["envs"]?.map { $0.object(EnvDeploymentState.init(reading:)) } ?? [:],
            nfrRecommendations: object["nfr_recommendations"]?.map { $0.document() } ?? [:]
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("replication_factor", replicationFactor)
        writer.add("selected_envs", selectedEnvs)
        writer.add("achieved_quorum_availability", achievedQuorumAvailability)
        writer.add("last_error", lastError)
        writer.add("envs", envs)
        writer.add("nfr_recommendations", nfrRecommendations)
        return writer.value
    }
}

extension EnvDeploymentState: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            unitId: object.string("unit_id") ?? "",
            dispatch: object.enumeration("dispatch", DispatchState.self) ?? .pending,
            condition: object.enumeration("condition", DeploymentCondition.self) ?? .pending,
            message: object.string("message"),
            lastError: object.string("last_error"),
            attempts: object.uint32("attempts") ?? 0,
            lastAttemptAt: object.string("last_attempt_at")
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("unit_id", unitId)
        writer.add("dispatch", dispatch)
        writer.add("condition", condition)
        writer.add("message", message)
        writer.add("last_error", lastError)
        writer.add("attempts", attempts)
        writer.add("last_attempt_at", lastAttemptAt)
        return writer.value
    }
}
