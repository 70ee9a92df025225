import Foundation

/// How triggers and change events behave (data-plane spec §6, §9.1), from ``ODGMConfig``.
struct EventSettings: Sendable {
    /// `ODGM_EVENTS_ENABLED`: off means no triggers and no change events at all.
    var enabled: Bool
    /// Defaults of the collection options `event_publish` and `ws_event_include_values`.
    var publishDefault: Bool
    var includeValuesDefault: Bool
    var maxDepth: Int
    var maxConcurrent: Int
    var attemptTimeout: Duration
    var maxRetries: Int
    var retryBackoff: Duration
    var maxFanout: Int
    var queueBound: Int
    /// `OPRC_ENV`, carried by change events as `origin_env` (empty: the router fills in its own).
    var originEnv: String
    /// Wall-clock milliseconds since the epoch (commit timestamps).
    var nowMs: @Sendable () -> UInt64 = { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    init(config: ODGMConfig) {
        enabled = config.eventsEnabled
        publishDefault = config.eventPublish
        includeValuesDefault = config.includeValues
        maxDepth = config.maxTriggerDepth
        maxConcurrent = max(1, config.maxConcurrentTriggers)
        attemptTimeout = config.triggerTimeout
        maxRetries = max(0, config.triggerMaxRetries)
        retryBackoff = config.triggerRetryBackoff
        maxFanout = max(1, config.maxTriggerFanout)
        queueBound = max(1, config.eventQueueBound)
        originEnv = config.env ?? ""
    }
}

/// The event options of one collection (spec §9.3): an option given in the collection wins over
/// the node's default from the environment.
struct CollectionEventOptions: Sendable {
    var publish: Bool
    var includeValues: Bool
    var payloadFormat: TriggerPayloadFormat

    init(spec: CollectionSpec, settings: EventSettings) {
        let given = spec.request.options
        let publishGiven = given["event_publish"] != nil || given["zenoh_event_publish"] != nil
        publish = publishGiven ? spec.options.eventPublish : settings.publishDefault
        includeValues = given["ws_event_include_values"] != nil ? spec.options.includeValues : settings.includeValuesDefault
        payloadFormat = spec.options.triggerPayloadFormat == "protobuf" ? .protobuf : .json
    }
}
