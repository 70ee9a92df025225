import GRPCCore
import GRPCTransports
import GRPCNIOTransportHTTP2
import Logging
import OaaSCore
import RouterClient
import OaaSProto
import ServiceLifecycle

/// The link to one peer router (spec §7.2 Peering): watches the peer's local routes and merges them into the
/// hub, subscribes to the peer's local events of every class it has seen there and re-publishes them here as
/// bridged events. `local_only` on both streams keeps routes and events from bouncing between routers.
struct PeerLink: Service {
    let url: String
    let client: GRPCClient<DataPathClientTransport>
    let hub: RouteHub
    let events: EventHub
    let backoff: Backoff
    let logger: Logger
    private let watcher: RouteWatcher

    init(url: String, hub: RouteHub, events: EventHub, leaseTTL: Duration, backoff: Backoff = Backoff(),
         logger: Logger) throws(ConfigurationError) {
        guard let endpoint = GRPCEndpoint(url: url) else {
            throw ConfigurationError("OPRC_ROUTER_PEERS: '\(url)' is not an http://host:port URL")
        }
        self.url = url
        do {
            client = try endpoint.makeClient()
        } catch {
            throw ConfigurationError("OPRC_ROUTER_PEERS: cannot set up a connection to \(url): \(error)")
        }
        self.hub = hub
        self.events = events
        self.backoff = backoff
        var logger = logger
        logger[metadataKey: "peer"] = "\(url)"
        self.logger = logger
        // A peer that stays away longer than a lease loses its routes, like a node that stops heartbeating.
        watcher = RouteWatcher(client: client, ownsClient: false, clsID: nil, localOnly: true, backoff: backoff,
                               expireAfter: leaseTTL, logger: logger)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    do {
                        try await client.runConnections()
                    } catch {
                        logger.debug("peer client stopped", metadata: ["error": "\(error)"])
                    }
                }
                group.addTask { try? await watcher.run() }
                var subscribed: Set<String> = []
                for await table in watcher.updates() {
                    await hub.setPeerRoutes(url, table.collections)
                    // One subscription per class ever seen; a class that goes away just stays quiet.
                    for route in table.collections where subscribed.insert(route.clsID).inserted {
                        let clsID = route.clsID
                        group.addTask { await bridgeEvents(of: clsID) }
                    }
                }
                await hub.setPeerRoutes(url, nil)
                group.cancelAll()
            }
        }
        client.beginGracefulShutdown()
    }

    /// Re-publishes the peer's local events of one class, reconnecting with backoff.
    private func bridgeEvents(of clsID: String) async {
        let router = Oaas_Router_RouterService.Client(wrapping: client)
        var request = Oaas_Router_SubscribeRequest()
        request.clsID = clsID
        request.includeValues = true
        request.localOnly = true
        var failures = 0
        while !Task.isCancelled {
            do {
                try await router.subscribe(request) { response in
                    for try await delivery in response.messages where delivery.hasEvent {
                        events.publish([delivery.event], bridged: true)
                    }
                }
                failures = 0
            } catch {
                if Task.isCancelled { return }
                failures += 1
                if failures == 1 {
                    logger.warning("peer subscription interrupted; reconnecting", metadata: ["cls": "\(clsID)", "error": "\(error)"])
                }
            }
            do {
                try await Task.sleep(for: backoff.delay(afterFailures: max(1, failures)))
            } catch {
                return
            }
        }
    }
}
