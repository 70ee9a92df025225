import Foundation
import OaaSCore
import RouterClient

/// Router settings (data-plane spec §11.3), read once at start. Bad values are reported to the `EnvReader` (one line
/// per variable) and the default is kept; the caller stops start-up with `env.validate()` (exit 2).
public struct RouterConfig: Sendable, Equatable {
    /// `OPRC_ROUTER_PORT`: gRPC + HTTP admin listener.
    public var port: Int
    /// `OPRC_ROUTER_ENV`: tags routes and events of nodes that name no env of their own.
    public var env: String
    /// `OPRC_ROUTER_PEERS`: other routers whose local routes and events this one merges (§7.2).
    public var peers: [String]
    /// `OPRC_ROUTER_LEASE_TTL_MS`: a node that misses heartbeats for this long loses its routes.
    public var leaseTTL: Duration
    /// `OPRC_ROUTER_SUBSCRIBER_BUFFER`: events buffered per subscriber before the oldest are dropped.
    public var subscriberBuffer: Int
    /// `OPRC_ROUTER_FORWARD_TIMEOUT_MS`: Forward deadline when the caller sent none.
    public var forwardTimeout: Duration
    /// `OPRC_ROUTER_MAX_HOPS`: Forward loop guard.
    public var maxHops: UInt32
    /// Smallest gap between two route tables on one watch stream (§7.1: ≤1 per 100 ms). Not an env setting.
    public var watchInterval: Duration

    public init(
        port: Int = 17_447,
        env: String = "default",
        peers: [String] = [],
        leaseTTL: Duration = .milliseconds(10_000),
        subscriberBuffer: Int = 1024,
        forwardTimeout: Duration = .milliseconds(30_000),
        maxHops: UInt32 = 4,
        watchInterval: Duration = .milliseconds(100)
    ) {
        self.port = port
        self.env = env
        self.peers = peers
        self.leaseTTL = leaseTTL
        self.subscriberBuffer = subscriberBuffer
        self.forwardTimeout = forwardTimeout
        self.maxHops = maxHops
        self.watchInterval = watchInterval
    }

    /// Reads every §11.3 variable from `env`, falling back to `defaults`.
    public init(env: EnvReader, defaults: RouterConfig = RouterConfig()) {
        var bare = env
        bare.prefixes = []
        self = defaults
        port = bare.int("OPRC_ROUTER_PORT", default: defaults.port, range: 0...65_535)
        self.env = bare.string("OPRC_ROUTER_ENV", default: defaults.env)
        leaseTTL = .milliseconds(bare.int("OPRC_ROUTER_LEASE_TTL_MS", default: Self.milliseconds(defaults.leaseTTL),
                                          range: 100...86_400_000))
        subscriberBuffer = bare.int("OPRC_ROUTER_SUBSCRIBER_BUFFER", default: defaults.subscriberBuffer, range: 1...10_000_000)
        forwardTimeout = .milliseconds(bare.int("OPRC_ROUTER_FORWARD_TIMEOUT_MS",
                                                default: Self.milliseconds(defaults.forwardTimeout),
                                                range: 1...Int64(Int32.max)))
        maxHops = bare.int("OPRC_ROUTER_MAX_HOPS", default: defaults.maxHops, range: 0...64)
        if let (variable, raw) = bare.lookup("OPRC_ROUTER_PEERS") {
            var peers: [String] = []
            for item in raw.split(separator: ",") {
                let url = item.trimmingCharacters(in: .whitespaces)
                if url.isEmpty { continue }
                if GRPCEndpoint(url: url) == nil {
                    bare.report("\(variable): '\(url)' is not an http://host:port URL")
                } else if !peers.contains(url) {
                    peers.append(url)
                }
            }
            self.peers = peers
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
