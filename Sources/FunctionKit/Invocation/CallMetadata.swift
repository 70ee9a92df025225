import GRPCCore

/// Keys of the invocation context (data-plane spec §5.4, §6.3).
enum ContextKeys {
    static let triggerDepth = "oaas-trigger-depth"
    static let invocationID = "oaas-invocation-id"
    static let traceparent = "traceparent"
    static let tracestate = "tracestate"
    static let timeout = "grpc-timeout"
    static let objectVersion = "oaas-object-version"
    static let errorCode = "oaas-error-code"
}

/// The context an invocation carries besides its message: read from gRPC metadata first and, for
/// peers that only set them there, from the request `options` (ODGM sets both; spec §5.4).
struct CallMetadata: Sendable {
    var triggerDepth: Int
    var invocationID: String?
    var traceparent: String?
    var tracestate: String?
    /// When the caller stops waiting: arrival time plus `grpc-timeout`, nil if none was sent.
    var deadline: ContinuousClock.Instant?

    init(metadata: Metadata, options: [String: String], arrival: ContinuousClock.Instant = .now) {
        func value(_ key: String) -> String? {
            if let first = metadata[stringValues: key].first(where: { !$0.isEmpty }) { return first }
            if let option = options[key], !option.isEmpty { return option }
            return nil
        }
        // A malformed or negative depth counts as 0, the depth of a client call.
        triggerDepth = value(ContextKeys.triggerDepth).flatMap { Int($0) }.map { max($0, 0) } ?? 0
        invocationID = value(ContextKeys.invocationID)
        traceparent = value(ContextKeys.traceparent)
        tracestate = value(ContextKeys.tracestate)
        deadline = metadata[stringValues: ContextKeys.timeout].first(where: { _ in true })
            .flatMap(GRPCTimeout.parse)
            .map { arrival + $0 }
    }

    /// The metadata that passes this context on to a DataService call.
    var outgoing: Metadata {
        var metadata = Metadata()
        if triggerDepth > 0 { metadata.addString(String(triggerDepth), forKey: ContextKeys.triggerDepth) }
        if let traceparent { metadata.addString(traceparent, forKey: ContextKeys.traceparent) }
        if let tracestate { metadata.addString(tracestate, forKey: ContextKeys.tracestate) }
        if let invocationID { metadata.addString(invocationID, forKey: ContextKeys.invocationID) }
        return metadata
    }
}

/// The gRPC `grpc-timeout` header: 1–8 digits and a unit (H, M, S, m, u, n).
enum GRPCTimeout {
    static func parse(_ raw: String) -> Duration? {
        guard (2...9).contains(raw.count), let unit = raw.last,
              raw.dropLast().allSatisfy({ $0.isASCII && $0.isNumber }), let amount = Int64(raw.dropLast()), amount >= 0
        else { return nil }
        switch unit {
        case "H": return .seconds(amount * 3600)
        case "M": return .seconds(amount * 60)
        case "S": return .seconds(amount)
        case "m": return .milliseconds(amount)
        case "u": return .microseconds(amount)
        case "n": return .nanoseconds(amount)
        default: return nil
        }
    }
}
