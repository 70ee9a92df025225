import GRPCCore

extension NGHTTP2ClientTransport {
    public struct Config: Sendable {
        /// Reconnect backoff: the delay after the n-th failed attempt is `initial * multiplier^(n-1)`, capped at
        /// `max`, then spread by ±`jitter` (a fraction).
        public struct Backoff: Sendable {
            public var initial: Duration
            public var max: Duration
            public var multiplier: Double
            public var jitter: Double

            public init(initial: Duration = .seconds(1), max: Duration = .seconds(120), multiplier: Double = 1.6,
                        jitter: Double = 0.2) {
                self.initial = initial
                self.max = max
                self.multiplier = multiplier
                self.jitter = jitter
            }

            public static var defaults: Self { Self() }
        }

        public struct Keepalive: Sendable {
            /// Interval between PINGs; nil disables keepalive.
            public var pingInterval: Duration?
            /// The connection is closed when a PING is not acknowledged within this time.
            public var pingTimeout: Duration
            /// Whether to ping while no RPC is open.
            public var permitWithoutCalls: Bool

            public init(pingInterval: Duration? = nil, pingTimeout: Duration = .seconds(20),
                        permitWithoutCalls: Bool = false) {
                self.pingInterval = pingInterval
                self.pingTimeout = pingTimeout
                self.permitWithoutCalls = permitWithoutCalls
            }

            public static var defaults: Self { Self() }
        }

        /// The largest response message accepted (a call's `maxResponseMessageBytes` overrides it); larger ones
        /// fail the RPC with RESOURCE_EXHAUSTED and reset the stream.
        public var maxMessageBytes: Int
        public var connectTimeout: Duration
        public var backoff: Backoff
        public var keepalive: Keepalive
        /// SETTINGS_INITIAL_WINDOW_SIZE advertised to the server: how much of one response may be unread.
        public var initialStreamWindowBytes: Int
        /// The connection-level receive window.
        public var connectionWindowBytes: Int
        /// A request writer suspends while more than this many framed bytes of its stream wait to be sent.
        public var maxPendingOutboundBytes: Int
        /// A connection without open streams for this long is closed (and re-opened on demand); nil keeps it.
        public var idleTimeout: Duration?
        /// The `:authority` of requests; defaults to "host:port".
        public var authority: String?
        /// Runs each RPC's task on its connection's event loop (task executor preference), so reads, writes and
        /// resumptions need no thread hop. Disable to keep RPC work on the global concurrent executor.
        public var runsStreamsOnEventLoop: Bool

        public init(
            maxMessageBytes: Int = 4 * 1024 * 1024,
            connectTimeout: Duration = .seconds(20),
            backoff: Backoff = .defaults,
            keepalive: Keepalive = .defaults,
            initialStreamWindowBytes: Int = 1024 * 1024,
            connectionWindowBytes: Int = 8 * 1024 * 1024,
            maxPendingOutboundBytes: Int = 256 * 1024,
            idleTimeout: Duration? = .seconds(30 * 60),
            authority: String? = nil,
            runsStreamsOnEventLoop: Bool = true
        ) {
            self.maxMessageBytes = maxMessageBytes
            self.connectTimeout = connectTimeout
            self.backoff = backoff
            self.keepalive = keepalive
            self.initialStreamWindowBytes = initialStreamWindowBytes
            self.connectionWindowBytes = connectionWindowBytes
            self.maxPendingOutboundBytes = maxPendingOutboundBytes
            self.idleTimeout = idleTimeout
            self.authority = authority
            self.runsStreamsOnEventLoop = runsStreamsOnEventLoop
        }

        public static var defaults: Self { Self() }
    }
}

extension NGHTTP2ClientTransport.Config.Backoff {
    /// The delay before reconnect attempt `attempt` (1-based), with jitter applied.
    func delay(attempt: Int) -> Duration {
        let initialSeconds = Self.seconds(initial)
        let maxSeconds = Self.seconds(max)
        var base = initialSeconds
        if attempt > 1 {
            base = initialSeconds * pow(multiplier, Double(attempt - 1))
        }
        base = Swift.min(base, maxSeconds)
        let spread = base * Swift.max(0, Swift.min(jitter, 1))
        let seconds = Swift.max(0, base + Double.random(in: -spread...spread))
        return .nanoseconds(Int64(seconds * 1e9))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && result < 1e12 {
            result *= base
            remaining -= 1
        }
        return result
    }
}

/// Method configurations from a service config, looked up by method, then service, then the default entry.
struct MethodConfigTable: Sendable {
    private var elements: [MethodConfig.Name: MethodConfig] = [:]

    init(_ serviceConfig: ServiceConfig) {
        for config in serviceConfig.methodConfig {
            for name in config.names { elements[name] = config }
        }
    }

    subscript(_ descriptor: MethodDescriptor) -> MethodConfig? {
        var name = MethodConfig.Name(service: descriptor.service.fullyQualifiedService, method: descriptor.method)
        if let config = elements[name] { return config }
        name.method = ""
        if let config = elements[name] { return config }
        name.service = ""
        return elements[name]
    }
}
