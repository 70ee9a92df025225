import GRPCCore
import Logging
import Metrics
import OaaSCore
import ServiceLifecycle

/// The router role (`oaas serve --role router`, data-plane spec §7, §11.3). The launcher serves `grpcServices` on
/// `config.port` (with health and the probe routes) and runs `services` in its ServiceGroup: the lease sweeper, the
/// pool of node clients that Forward uses, and one link per peer router.
public final class RouterRole: Sendable {
    public static let version = "0.1.0"

    public let config: RouterConfig
    public let grpcServices: [any RegistrableRPCService]
    public let services: [any Service]
    let hub: RouteHub
    let events: EventHub
    let pool: NodeClientPool

    /// - Throws: `ConfigurationError` when a peer URL is unusable.
    public convenience init(config: RouterConfig, container: ServiceContainer) throws(ConfigurationError) {
        try self.init(config: config, logger: container.logger)
    }

    /// - Parameter metricsFactory: where the router's metrics go (default: the process-wide `MetricsSystem`).
    init(config: RouterConfig, logger: Logger, metricsFactory: (any MetricsFactory)? = nil) throws(ConfigurationError) {
        var logger = logger
        logger[metadataKey: "role"] = "router"
        self.config = config
        let metrics = RouterMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        let hub = RouteHub(env: config.env, leaseTTL: config.leaseTTL, metrics: metrics, logger: logger)
        let events = EventHub(env: config.env, capacity: config.subscriberBuffer, metrics: metrics)
        let pool = NodeClientPool(hub: hub, logger: logger)
        var links: [PeerLink] = []
        for url in config.peers {
            links.append(try PeerLink(url: url, hub: hub, events: events, leaseTTL: config.leaseTTL, logger: logger))
        }
        let forwarder = Forwarder(
            hub: hub, pool: pool, peers: Dictionary(uniqueKeysWithValues: links.map { ($0.url, $0.client) }),
            config: config, metrics: metrics, logger: logger)
        self.hub = hub
        self.events = events
        self.pool = pool
        grpcServices = [RouterGRPCService(hub: hub, events: events, forwarder: forwarder, watchInterval: config.watchInterval)]
        services = [LeaseSweeper(hub: hub, leaseTTL: config.leaseTTL), pool] + links
        logger.info("router ready", metadata: [
            "env": "\(config.env)", "peers": "\(config.peers.joined(separator: ","))",
            "lease_ttl_ms": "\(RouterConfig.milliseconds(config.leaseTTL))",
        ])
    }
}
