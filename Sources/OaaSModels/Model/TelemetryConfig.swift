/// OTEL env injection for a deployment (spec §2.3 `telemetry`).
public struct TelemetryConfig: Sendable, Equatable, Codable {
    /// True when the block is present and `enabled` is not given.
    public var enabled: Bool
    public var traces: Bool?
    public var metrics: Bool?
    public var logs: Bool?
    /// In [0, 1].
    public var samplingRate: Double?
    public var serviceName: String?
    public var resourceAttributes: [String: String]

    public init(
        enabled: Bool = true,
        traces: Bool? = nil,
        metrics: Bool? = nil,
        logs: Bool? = nil,
        samplingRate: Double? = nil,
        serviceName: String? = nil,
        resourceAttributes: [String: String] = [:]
    ) {
        self.enabled = enabled
        self.traces = traces
        self.metrics = metrics
        self.logs = logs
        self.samplingRate = samplingRate
        self.serviceName = serviceName
        self.resourceAttributes = resourceAttributes
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

extension TelemetryConfig: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            enabled: object.bool("enabled") ?? true,
            traces: object.bool("traces"),
            metrics: object.bool("metrics"),
            logs: object.bool("logs"),
            samplingRate: object.double("sampling_rate"),
            serviceName: object.string("service_name"),
            resourceAttributes: object.stringMap("resource_attributes") ?? [:]
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("enabled", enabled)
        writer.add("traces", traces)
        writer.add("metrics", metrics)
        writer.add("logs", logs)
        writer.add("sampling_rate", samplingRate)
        writer.add("service_name", serviceName)
        writer.add("resource_attributes", resourceAttributes)
        return writer.value
    }
}
