import Kube

/// `ClassRuntime.status.phase` (lowercase, as the reference writes it).
public enum ClassRuntimePhase: String, Codable, Sendable, CaseIterable {
    case pending, applying, progressing, available, degraded, deleting
}

/// `ClassRuntime.status` (control-plane spec §10.3). Decoding is lenient field by field: a status written by another
/// controller version never makes the CR unreadable; unreadable fields decode as absent (an unknown phase as nil,
/// which the summaries report as `Unknown`). Timestamps stay RFC 3339 strings so they round-trip exactly.
public struct ClassRuntimeStatus: Codable, Sendable, Equatable {
    public var phase: ClassRuntimePhase?
    public var message: String?
    /// RFC 3339; last status write.
    public var lastUpdated: String?
    /// Generation last rendered and applied.
    public var observedGeneration: Int64?
    /// `Available`, `Progressing`, `Degraded` (always present and mutually exclusive), `NfrObserved`, `NfrEnforced`.
    public var conditions: [ClassRuntimeCondition]
    public var template: String?
    /// `hint` | `nfr` | `profile`.
    public var templateSource: String?
    /// `"<ready>/<desired>"` workloads.
    public var ready: String?
    /// RFC 3339; start of the current progressing spell.
    public var progressingSince: String?
    /// Every desired child, sorted by kind, name.
    public var resourceRefs: [ResourceRef]
    public var functions: [FunctionStatusEntry]
    public var routers: [RouterEndpoint]
    /// Analyzer output; kept as raw JSON (reference shape plus our additions).
    public var nfrRecommendations: JSONValue?
    public var nfrCompliance: NfrCompliance?
    /// Enforcer only; nil leaves the stored value alone in a merge patch.
    public var lastAppliedRecommendations: [AppliedRecommendation]?
    public var lastAppliedAt: String?

    public init(
        phase: ClassRuntimePhase? = nil, message: String? = nil, lastUpdated: String? = nil,
        observedGeneration: Int64? = nil, conditions: [ClassRuntimeCondition] = [], template: String? = nil,
        templateSource: String? = nil, ready: String? = nil, progressingSince: String? = nil,
        resourceRefs: [ResourceRef] = [], functions: [FunctionStatusEntry] = [], routers: [RouterEndpoint] = [],
        nfrRecommendations: JSONValue? = nil, nfrCompliance: NfrCompliance? = nil,
        lastAppliedRecommendations: [AppliedRecommendation]? = nil, lastAppliedAt: String? = nil
    ) {
        self.phase = phase
        self.message = message
        self.lastUpdated = lastUpdated
        self.observedGeneration = observedGeneration
        self.conditions = conditions
        self.template = template
        self.templateSource = templateSource
        self.ready = ready
        self.progressingSince = progressingSince
        self.resourceRefs = resourceRefs
        self.functions = functions
        self.routers = routers
        self.nfrRecommendations = nfrRecommendations
        self.nfrCompliance = nfrCompliance
        self.lastAppliedRecommendations = lastAppliedRecommendations
        self.lastAppliedAt = lastAppliedAt
    }

    /// The condition of `type`, if present.
    public func condition(_ type: String) -> ClassRuntimeCondition? { conditions.first { $0.type == type } }

    enum CodingKeys: String, CodingKey {
        case phase, message, lastUpdated = "last_updated", observedGeneration = "observed_generation", conditions
        case template, templateSource = "template_source", ready, progressingSince = "progressing_since"
        case resourceRefs = "resource_refs", functions, routers, nfrRecommendations = "nfr_recommendations"
        case nfrCompliance = "nfr_compliance", lastAppliedRecommendations = "last_applied_recommendations"
        case lastAppliedAt = "last_applied_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        phase = c.lenient(String.self, .phase).flatMap(ClassRuntimePhase.init(rawValue:))
        message = c.lenient(String.self, .message)
        lastUpdated = c.lenient(String.self, .lastUpdated)
        observedGeneration = c.lenient(Int64.self, .observedGeneration)
        conditions = c.lenientElements(ClassRuntimeCondition.self, .conditions)
        template = c.lenient(String.self, .template)
        templateSource = c.lenient(String.self, .templateSource)
        ready = c.lenient(String.self, .ready)
        progressingSince = c.lenient(String.self, .progressingSince)
        resourceRefs = c.lenientElements(ResourceRef.self, .resourceRefs)
        functions = c.lenientElements(FunctionStatusEntry.self, .functions)
        routers = c.lenientElements(RouterEndpoint.self, .routers)
        nfrRecommendations = c.lenient(JSONValue.self, .nfrRecommendations)
        nfrCompliance = c.lenient(NfrCompliance.self, .nfrCompliance)
        lastAppliedRecommendations = c.lenient([AppliedRecommendation].self, .lastAppliedRecommendations)
        lastAppliedAt = c.lenient(String.self, .lastAppliedAt)
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or nil when absent, null or of the wrong shape.
    func lenient<T: Decodable>(_ type: T.Type, _ key: Key) -> T? {
        (try? decodeIfPresent(T.self, forKey: key)) ?? nil
    }

    /// The readable elements of the array at `key`; unreadable elements are skipped.
    func lenientElements<T: Decodable>(_ type: T.Type, _ key: Key) -> [T] {
        guard let raw = lenient([JSONValue].self, key) else { return [] }
        return raw.compactMap { try? $0.decode(as: T.self) }
    }
}

/// `status.conditions[]` (Kubernetes condition shape, camelCase keys as in the CRD).
public struct ClassRuntimeCondition: Codable, Sendable, Equatable {
    public static let available = "Available"
    public static let progressing = "Progressing"
    public static let degraded = "Degraded"
    public static let nfrObserved = "NfrObserved"
    public static let nfrEnforced = "NfrEnforced"

    public var type: String
    /// `True` | `False` | `Unknown`.
    public var status: String
    public var reason: String?
    public var message: String?
    /// RFC 3339; changes only when `status` flips.
    public var lastTransitionTime: String?
    public var observedGeneration: Int64?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil,
                lastTransitionTime: String? = nil, observedGeneration: Int64? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }

    public var isTrue: Bool { status == "True" }
}

/// `status.functions[]`: where a function is reachable and whether it is ready. WASM: service "", port 0,
/// url `wasm://<key>`; endpoint functions: the endpoint URL.
public struct FunctionStatusEntry: Codable, Sendable, Equatable {
    public var functionKey: String
    public var service: String
    public var port: Int32
    public var predictedUrl: String
    public var observedUrl: String?
    public var template: String
    public var ready: Bool?
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: String?

    public init(functionKey: String, service: String = "", port: Int32 = 0, predictedUrl: String = "",
                observedUrl: String? = nil, template: String = "", ready: Bool? = nil, reason: String? = nil,
                message: String? = nil, lastTransitionTime: String? = nil) {
        self.functionKey = functionKey
        self.service = service
        self.port = port
        self.predictedUrl = predictedUrl
        self.observedUrl = observedUrl
        self.template = template
        self.ready = ready
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }

    enum CodingKeys: String, CodingKey {
        case functionKey = "function_key", service, port, predictedUrl = "predicted_url", observedUrl = "observed_url"
        case template, ready, reason, message, lastTransitionTime
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        functionKey = try c.decode(String.self, forKey: .functionKey)
        service = c.lenient(String.self, .service) ?? ""
        port = c.lenient(Int32.self, .port) ?? 0
        predictedUrl = c.lenient(String.self, .predictedUrl) ?? ""
        observedUrl = c.lenient(String.self, .observedUrl)
        template = c.lenient(String.self, .template) ?? ""
        ready = c.lenient(Bool.self, .ready)
        reason = c.lenient(String.self, .reason)
        message = c.lenient(String.self, .message)
        lastTransitionTime = c.lenient(String.self, .lastTransitionTime)
    }
}

/// A discovered router Service (`status.routers[]`, and where functions and ODGM find the router).
public struct RouterEndpoint: Sendable, Equatable, Codable {
    public var service: String
    public var port: Int32

    public init(service: String, port: Int32) {
        self.service = service
        self.port = port
    }
}

extension ClassRuntimeStatus {
    /// `status.resource_refs[]`.
    public struct ResourceRef: Codable, Sendable, Equatable {
        public var kind: String
        public var name: String
        public var uid: String?

        public init(kind: String, name: String, uid: String? = nil) {
            self.kind = kind
            self.name = name
            self.uid = uid
        }
    }

    /// `status.nfr_compliance` (analyzer): `Compliant` | `AtRisk` | `Violated` | `Unknown` per dimension.
    public struct NfrCompliance: Codable, Sendable, Equatable {
        public var overallStatus: String
        public var throughputStatus: String?
        public var latencyStatus: String?
        public var availabilityStatus: String?
        public var lastChecked: String

        public init(overallStatus: String, throughputStatus: String? = nil, latencyStatus: String? = nil,
                    availabilityStatus: String? = nil, lastChecked: String) {
            self.overallStatus = overallStatus
            self.throughputStatus = throughputStatus
            self.latencyStatus = latencyStatus
            self.availabilityStatus = availabilityStatus
            self.lastChecked = lastChecked
        }

        enum CodingKeys: String, CodingKey {
            case overallStatus = "overall_status", throughputStatus = "throughput_status"
            case latencyStatus = "latency_status", availabilityStatus = "availability_status"
            case lastChecked = "last_checked"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            overallStatus = c.lenient(String.self, .overallStatus) ?? "Unknown"
            throughputStatus = c.lenient(String.self, .throughputStatus)
            latencyStatus = c.lenient(String.self, .latencyStatus)
            availabilityStatus = c.lenient(String.self, .availabilityStatus)
            lastChecked = c.lenient(String.self, .lastChecked) ?? ""
        }
    }

    /// `status.last_applied_recommendations[]` (enforcer).
    public struct AppliedRecommendation: Codable, Sendable, Equatable {
        /// `function` (ODGM changes are recommendations only).
        public var component: String
        /// `replicas` | `cpu` | `memory`.
        public var dimension: String
        public var target: Double
        public var basis: String?
        public var confidence: Double?

        public init(component: String, dimension: String, target: Double, basis: String? = nil,
                    confidence: Double? = nil) {
            self.component = component
            self.dimension = dimension
            self.target = target
            self.basis = basis
            self.confidence = confidence
        }
    }
}
