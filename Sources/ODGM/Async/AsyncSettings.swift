import Foundation

/// How async invocations behave (data-plane spec §5.5); the environment's values come from
/// `ODGMConfig`, the rest are fixed tuning knobs that tests may shrink.
public struct AsyncSettings: Sendable {
    /// How long a DONE result stays readable (`ODGM_ASYNC_RESULT_TTL_SECS`).
    public var resultTTL: Duration
    /// Unfinished calls allowed per shard (`ODGM_ASYNC_MAX_PENDING`).
    public var maxPending: Int
    /// Retries after a SYSTEM_ERROR outcome or an UNAVAILABLE / DEADLINE_EXCEEDED failure (`ODGM_TRIGGER_MAX_RETRIES`).
    public var maxRetries: Int
    /// First retry delay, doubled on each further retry (`ODGM_TRIGGER_RETRY_BACKOFF_MS`).
    public var retryBackoff: Duration
    /// Deadline of each run (`ODGM_INVOKE_TIMEOUT_MS`).
    public var invokeTimeout: Duration
    /// Calls run at once by one node (at least 1).
    public var maxConcurrent: Int = 64
    /// How often expired results are purged (and the queue re-checked).
    public var purgeInterval: Duration = .seconds(30)
    /// Wall-clock milliseconds since the epoch (timestamps and retention); injectable for tests.
    public var nowMs: @Sendable () -> UInt64 = { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    public init(config: ODGMConfig) {
        resultTTL = config.asyncResultTTL
        maxPending = config.asyncMaxPending
        maxRetries = config.triggerMaxRetries
        retryBackoff = config.triggerRetryBackoff
        invokeTimeout = config.invokeTimeout
    }

    var resultTTLMs: UInt64 {
        let (seconds, attoseconds) = resultTTL.components
        return UInt64(max(0, seconds)) * 1000 + UInt64(max(0, attoseconds) / 1_000_000_000_000_000)
    }
}
