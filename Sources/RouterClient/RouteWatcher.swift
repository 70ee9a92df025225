import GRPCCore
import GRPCTransports
import GRPCNIOTransportHTTP2
import Logging
import OaaSCore
import OaaSProto
import ServiceLifecycle
import Synchronization

/// Keeps a `WatchRoutes` stream open to a router (spec §7.1, §8.1) and holds the latest route table.
///
/// Gateways and ODGM nodes run one as a `Service`. It reconnects with backoff when the stream breaks and keeps
/// serving the last table meanwhile (routes are soft state; a router restart must not blank the data path), unless
/// `expireAfter` is set and the router stays unreachable for that long.
public final class RouteWatcher: Service, Sendable {
    package typealias Client = GRPCClient<DataPathClientTransport>

    private let client: Client
    private let ownsClient: Bool
    private let request: Oaas_Router_WatchRoutesRequest
    private let backoff: Backoff
    private let expireAfter: Duration?
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var index: RouteIndex?
        var received = false
        var listeners: [UInt64: AsyncStream<Oaas_Router_RouteTable>.Continuation] = [:]
        var nextListener: UInt64 = 0
        var finished = false
    }

    /// - Parameters:
    ///   - routerURL: `http://host:port` of the router (`OPRC_ROUTER_URL`).
    ///   - clsID: watch one class only.
    ///   - localOnly: exclude routes the router learned from its peers.
    ///   - expireAfter: drop the table when the router has been unreachable this long (nil: keep it).
    /// - Throws: `ConfigurationError` when the URL is unusable.
    public convenience init(routerURL: String, clsID: String? = nil, localOnly: Bool = false, backoff: Backoff = Backoff(),
                            expireAfter: Duration? = nil, logger: Logger) throws(ConfigurationError) {
        guard let endpoint = GRPCEndpoint(url: routerURL) else {
            throw ConfigurationError("OPRC_ROUTER_URL: '\(routerURL)' is not an http://host:port URL")
        }
        let client: Client
        do {
            client = try endpoint.makeClient()
        } catch {
            throw ConfigurationError("OPRC_ROUTER_URL: cannot set up a connection to \(routerURL): \(error)")
        }
        self.init(client: client, ownsClient: true, clsID: clsID, localOnly: localOnly, backoff: backoff,
                  expireAfter: expireAfter, logger: logger)
    }

    /// Watches through an existing client (the caller runs its connections).
    package init(client: Client, ownsClient: Bool, clsID: String?, localOnly: Bool, backoff: Backoff, expireAfter: Duration?,
         logger: Logger) {
        self.client = client
        self.ownsClient = ownsClient
        var request = Oaas_Router_WatchRoutesRequest()
        if let clsID { request.clsID = clsID }
        request.localOnly = localOnly
        self.request = request
        self.backoff = backoff
        self.expireAfter = expireAfter
        self.logger = logger
    }

    /// The latest table, nil until the first one arrived (or after it expired).
    public var latest: Oaas_Router_RouteTable? { state.withLock { $0.index?.table } }

    /// The route of one class in the latest table.
    public func collection(_ clsID: String) -> Oaas_Router_CollectionRoute? {
        state.withLock { $0.index?.collections[clsID] }
    }

    /// The shards serving (cls, pid) in the latest table; empty when unknown.
    public func shards(clsID: String, partitionID: UInt32) -> [Oaas_Router_ShardRoute] {
        state.withLock { $0.index?.shards[clsID]?[partitionID] ?? [] }
    }

    /// Every table from now on, starting with the latest if there is one. A slow reader gets the newest table
    /// only (older ones are superseded). The stream ends when the watcher stops.
    public func updates() -> AsyncStream<Oaas_Router_RouteTable> {
        let (stream, continuation) = AsyncStream<Oaas_Router_RouteTable>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id: UInt64? = state.withLock { state in
            guard !state.finished else { return nil }
            if let table = state.index?.table { continuation.yield(table) }
            state.nextListener += 1
            state.listeners[state.nextListener] = continuation
            return state.nextListener
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            if self.ownsClient {
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        do {
                            try await self.client.runConnections()
                        } catch {
                            self.logger.debug("router client stopped", metadata: ["error": "\(error)"])
                        }
                    }
                    await self.watchLoop()
                    self.client.beginGracefulShutdown()
                }
            } else {
                await self.watchLoop()
            }
        }
        let listeners = state.withLock { state in
            state.finished = true
            defer { state.listeners = [:] }
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.finish() }
    }

    private func watchLoop() async {
        let router = Oaas_Router_RouterService.Client(wrapping: client)
        var failures = 0
        var disconnectedSince = ContinuousClock.now
        while !Task.isCancelled {
            state.withLock { $0.received = false }
            var failure: (any Error)?
            do {
                try await router.watchRoutes(request) { response in
                    for try await table in response.messages { self.apply(table) }
                }
            } catch {
                failure = error
            }
            if Task.isCancelled { return }
            if state.withLock({ $0.received }) {
                failures = 0
                disconnectedSince = .now
            }
            failures += 1
            if failures == 1 {
                logger.warning("route watch interrupted; reconnecting", metadata: ["error": "\(failure.map { "\($0)" } ?? "stream ended")"])
            }
            if let expireAfter, ContinuousClock.now - disconnectedSince >= expireAfter, latest.map({ !$0.collections.isEmpty }) == true {
                logger.warning("router unreachable for \(expireAfter); dropping its routes")
                var empty = Oaas_Router_RouteTable()
                empty.revision = latest?.revision ?? 0
                apply(empty)
            }
            do {
                try await Task.sleep(for: backoff.delay(afterFailures: failures))
            } catch {
                return
            }
        }
    }

    private func apply(_ table: Oaas_Router_RouteTable) {
        let index = RouteIndex(table)
        let listeners = state.withLock { state in
            state.index = index
            state.received = true
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.yield(table) }
    }
}
