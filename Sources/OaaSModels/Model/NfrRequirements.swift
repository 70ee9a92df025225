/// Non-functional requirements of a deployment (spec §2.3).
public struct NfrRequirements: Sendable, Equatable, Codable {
    /// ≥ 1.
    public var minThroughputRps: UInt32?
    /// Target availability ratio in (0, 1]; placement uses 0.99 when absent.
    public var availability: Double?
    /// HPA target in (0, 1]; 0.7 when absent.
    public var cpuUtilizationTarget: Double?
    /// p99 latency target, ≥ 1.
    public var maxLatencyMs: UInt32?

    public static let defaultAvailability = 0.99
    public static let defaultCpuUtilizationTarget = 0.7

    public init(
        minThroughputRps: UInt32? = nil,
        availability: Double? = nil,
        cpuUtilizationTarget: Double? = nil,
        maxLatencyMs: UInt32? = nil
    ) {
        self.minThroughputRps = minThroughputRps
        self.availability = availability
        self.cpuUtilizationTarget = cpuUtilizationTarget
        self.maxLatencyMs = maxLatencyMs
    }

    /// True if no requirement is set.
    public var isEmpty: Bool {
        minThroughputRps == nil && availability == nil && cpuUtilizationTarget == nil && maxLatencyMs == nil
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

extension NfrRequirements: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            minThroughputRps: object.uint32("min_throughput_rps"),
            availability: object.double("availability"),
            cpuUtilizationTarget: object.double("cpu_utilization_target"),
            maxLatencyMs: object.uint32("max_latency_ms")
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("min_throughput_rps", minThroughputRps)
        writer.add("availability", availability)
        writer.add("cpu_utilization_target", cpuUtilizationTarget)
        writer.add("max_latency_ms", maxLatencyMs)
        return writer.value
    }
}
