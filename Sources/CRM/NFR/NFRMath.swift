/// What Prometheus reported for one function, each averaged over the query range; nil = no samples.
public struct NFRObservation: Sendable, Equatable {
    public var rps: Double?
    public var p99Millis: Double?
    /// Millicores.
    public var cpuMillis: Double?
    public var memoryBytes: Double?

    public init(rps: Double? = nil, p99Millis: Double? = nil, cpuMillis: Double? = nil, memoryBytes: Double? = nil) {
        self.rps = rps
        self.p99Millis = p99Millis
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
    }

    public var isEmpty: Bool { rps == nil && p99Millis == nil && cpuMillis == nil && memoryBytes == nil }
}

/// The NFR targets one function is measured against.
public struct NFRTargets: Sendable, Equatable {
    public var minThroughputRps: Int?
    public var maxLatencyMs: Int?
    public var availabilityPct: Double?

    public init(minThroughputRps: Int? = nil, maxLatencyMs: Int? = nil, availabilityPct: Double? = nil) {
        self.minThroughputRps = minThroughputRps
        self.maxLatencyMs = maxLatencyMs
        self.availabilityPct = availabilityPct
    }
}

/// The analyzer's integer recommendation for one function (control-plane spec §12).
public struct NFRRecommendation: Sendable, Equatable {
    public var replicas: Int?
    /// Millicores.
    public var cpuMillis: Int?
    public var memoryBytes: Int?
    /// 0.6 when the p99 bound is exceeded, else 0.8; set with `replicas`.
    public var confidence: Double?

    public init(replicas: Int? = nil, cpuMillis: Int? = nil, memoryBytes: Int? = nil, confidence: Double? = nil) {
        self.replicas = replicas
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.confidence = confidence
    }

    public var isEmpty: Bool { replicas == nil && cpuMillis == nil && memoryBytes == nil }

    /// The value for an enforcement dimension (`replicas`, `cpu`, `memory`).
    public func value(_ dimension: NFRDimension) -> Int? {
        switch dimension {
        case .replicas: replicas
        case .cpu: cpuMillis
        case .memory: memoryBytes
        }
    }
}

/// What the enforcer may change (`spec.enforcement.dimensions`).
public enum NFRDimension: String, Sendable, CaseIterable, Hashable {
    case replicas, cpu, memory
}

/// Compliance of one dimension: worse cases sort later.
public enum NFRComplianceLevel: String, Sendable, CaseIterable {
    case compliant = "Compliant"
    case atRisk = "AtRisk"
    case violated = "Violated"
    /// No target, or no data.
    case unknown = "Unknown"

    var severity: Int {
        switch self {
        case .compliant: 0
        case .atRisk: 1
        case .violated: 2
        case .unknown: -1
        }
    }

    /// The worst known level, else `unknown`.
    static func worst(_ levels: [NFRComplianceLevel]) -> NFRComplianceLevel {
        levels.filter { $0 != .unknown }.max { $0.severity < $1.severity } ?? .unknown
    }
}

/// Compliance per dimension plus the worst of them.
public struct NFRComplianceReport: Sendable, Equatable {
    public var throughput: NFRComplianceLevel
    public var latency: NFRComplianceLevel
    public var availability: NFRComplianceLevel

    public init(throughput: NFRComplianceLevel = .unknown, latency: NFRComplianceLevel = .unknown,
                availability: NFRComplianceLevel = .unknown) {
        self.throughput = throughput
        self.latency = latency
        self.availability = availability
    }

    /// The worst known dimension; `Unknown` only when nothing is known.
    public var overall: NFRComplianceLevel { .worst([throughput, latency, availability]) }

    /// Several functions of one ClassRuntime: the worst per dimension.
    public static func combined(_ reports: [NFRComplianceReport]) -> NFRComplianceReport {
        NFRComplianceReport(throughput: .worst(reports.map(\.throughput)), latency: .worst(reports.map(\.latency)),
                            availability: .worst(reports.map(\.availability)))
    }
}

/// The recommendation and compliance formulas of control-plane spec §12. Pure and integer-valued: the enforcer reads
/// replicas, millicores and bytes exactly as written (✗ ref: float replicas it could not read).
public enum NFRMath {
    /// p99 bound when the unit sets no `max_latency_ms`.
    public static let defaultLatencyBoundMs = 250
    public static let cpuHeadroom = 1.3
    public static let memoryHeadroom = 1.2
    /// "AtRisk" = within this fraction of the bound.
    public static let riskMargin = 0.1
    /// Largest value written (1 PB, 10^15 millicores): Prometheus answers are input, not trusted to fit an Int.
    static let ceiling = 1e15

    /// replicas = ⌈(target_rps / max(rps, 1)) × cpu / REQ_CPU_PER_POD_M⌉ with a throughput target, else
    /// ⌈cpu / REQ_CPU_PER_POD_M⌉; at least 1; +1 when p99 exceeds the bound. cpu = ⌈cpu × 1.3⌉,
    /// memory = ⌈mem × 1.2⌉.
    /// replicas and cpu need cpu > 0; memory needs memory > 0.
    public static func recommend(_ observation: NFRObservation, targets: NFRTargets,
                                 requestCPUPerPodMillis: Int) -> NFRRecommendation {
        var result = NFRRecommendation()
        if let cpu = observation.cpuMillis, cpu > 0 {
            let perPod = Double(max(1, requestCPUPerPodMillis))
            var demand = cpu / perPod
            if let target = targets.minThroughputRps {
                demand *= Double(target) / max(observation.rps ?? 0, 1)
            }
            var replicas = max(1, ceilInt(demand) ?? 1)
            let bound = Double(targets.maxLatencyMs ?? defaultLatencyBoundMs)
            if let p99 = observation.p99Millis, p99 > bound {
                replicas += 1
                result.confidence = 0.6
            } else {
                result.confidence = 0.8
            }
            result.replicas = replicas
            result.cpuMillis = ceilInt(cpu * cpuHeadroom)
        }
        if let memory = observation.memoryBytes, memory > 0 {
            result.memoryBytes = ceilInt(memory * memoryHeadroom)
        }
        return result
    }

    /// Throughput: observed rps against `min_throughput_rps` (a floor); latency: p99 against `max_latency_ms`
    /// (a ceiling). Availability has no query, so it stays `Unknown`.
    public static func compliance(_ observation: NFRObservation, targets: NFRTargets) -> NFRComplianceReport {
        var report = NFRComplianceReport()
        if let target = targets.minThroughputRps, let rps = observation.rps {
            let floor = Double(target)
            report.throughput = rps < floor ? .violated : rps < floor * (1 + riskMargin) ? .atRisk : .compliant
        }
        if let bound = targets.maxLatencyMs, let p99 = observation.p99Millis {
            let ceiling = Double(bound)
            report.latency = p99 > ceiling ? .violated : p99 > ceiling * (1 - riskMargin) ? .atRisk : .compliant
        }
        return report
    }

    /// ⌈x⌉ as an Int, tolerating float noise just above an integer (2.0000000001 stays 2), clamped to
    /// [0, 10^15]; nil when not finite.
    static func ceilInt(_ value: Double) -> Int? {
        guard value.isFinite else { return nil }
        let nearest = value.rounded()
        let noise = max(1e-9, 1e-12 * abs(value))
        let rounded = abs(value - nearest) <= noise ? nearest : value.rounded(.up)
        return Int(min(max(rounded, 0), ceiling))
    }
}
