/// Runtime connection pool options of a collection (data-plane spec §9.3). The values were
/// validated when the collection was created; 0 or a missing value means the default.
///
/// One HTTP/2 connection multiplexes every call to a runtime, so the options are applied as:
/// `offload_max_pool_size` is a number of connections' worth of calls — each worth
/// `callsPerConnection` (100, the usual HTTP/2 stream limit) — and beyond that many calls in flight
/// to one runtime a call answers SYSTEM_ERROR "pool exhausted" (spec §5.2). A cap of 64 calls
/// refused ordinary bursts (a 1,000 calls/s benchmark hit it). `pool_max_idle_lifetime` closes a connection that
/// carried no call for that long (it reconnects on the next call); `pool_max_lifetime` replaces a
/// client once it is that old (calls in flight finish on the old one).
public struct RuntimePoolSettings: Hashable, Sendable {
    public var maxInFlight: Int
    public var maxIdle: Duration
    public var maxLifetime: Duration

    public init(maxInFlight: Int, maxIdle: Duration = .milliseconds(30_000), maxLifetime: Duration = .milliseconds(600_000)) {
        self.maxInFlight = maxInFlight
        self.maxIdle = maxIdle
        self.maxLifetime = maxLifetime
    }

    public static let callsPerConnection = 100

    public init(maxPoolSize: Int = 64, maxIdle: Duration = .milliseconds(30_000), maxLifetime: Duration = .milliseconds(600_000)) {
        self.init(maxInFlight: maxPoolSize.multipliedReportingOverflow(by: Self.callsPerConnection).partialValue,
                  maxIdle: maxIdle, maxLifetime: maxLifetime)
    }

    public init(options: [String: String]) {
        self.init(maxPoolSize: 64)
        if let value = Self.positive(options["offload_max_pool_size"]) {
            maxInFlight = Int(clamping: min(value, 1 << 40) * UInt64(Self.callsPerConnection))
        }
        if let value = Self.positive(options["pool_max_idle_lifetime"]) { maxIdle = .milliseconds(Int64(clamping: value)) }
        if let value = Self.positive(options["pool_max_lifetime"]) { maxLifetime = .milliseconds(Int64(clamping: value)) }
    }

    private static func positive(_ raw: String?) -> UInt64? {
        guard let raw, let value = UInt64(raw), value > 0 else { return nil }
        return value
    }
}
