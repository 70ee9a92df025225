import DequeModule
import GRPCCore
import GRPCTransports
import GRPCNIOTransportHTTP2
import Logging
import Metrics
import OaaSCore
import OaaSProto
import ServiceLifecycle
import Synchronization

/// Sends ODGM's change events to the router's `Publish` (data-plane spec §6.5): batches of at most `maxBatch`
/// events, each sent at most `maxDelay` after its first event was queued. Delivery is at most once: a failed batch
/// is dropped and its events counted in `odgm_events_publish_failures_total`; so are events that find the queue
/// full (the write path never waits for the router).
public final class RouterEventPublisher: ChangeEventPublisher, Service, Sendable {
    public typealias Send = @Sendable ([Oaas_Router_ObjectChangeEvent]) async throws -> Void

    private let send: Send
    private let maxBatch: Int
    private let maxDelay: Duration
    private let queueLimit: Int
    private let failures: Counter
    private let logger: Logger
    private let state = Mutex<State>(State())
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    private struct State {
        var queue = Deque<Oaas_Router_ObjectChangeEvent>()
        var stopped = false
    }

    /// Publishes through `send` (an in-process router, or a test).
    public init(maxBatch: Int = 100, maxDelay: Duration = .milliseconds(10), queueLimit: Int = 65_536,
                metricsFactory: (any MetricsFactory)? = nil, logger: Logger, send: @escaping Send) {
        self.send = send
        self.maxBatch = max(1, maxBatch)
        self.maxDelay = maxDelay
        self.queueLimit = max(1, queueLimit)
        self.failures = Counter(label: "odgm_events_publish_failures_total", dimensions: [],
                                factory: metricsFactory ?? MetricsSystem.factory)
        self.logger = logger
        (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Publishes to the router at `routerURL` over its own connection.
    /// - Throws: `ConfigurationError` naming `OPRC_ROUTER_URL` when the URL is unusable.
    public convenience init(routerURL: String, maxBatch: Int = 100, maxDelay: Duration = .milliseconds(10),
                            metricsFactory: (any MetricsFactory)? = nil, logger: Logger) throws(ConfigurationError) {
        guard let endpoint = GRPCEndpoint(url: routerURL) else {
            throw ConfigurationError("OPRC_ROUTER_URL: '\(routerURL)' is not an http://host:port URL")
        }
        let client: GRPCClient<DataPathClientTransport>
        do {
            client = try endpoint.makeClient()
        } catch {
            throw ConfigurationError("OPRC_ROUTER_URL: cannot set up a connection to \(routerURL): \(error)")
        }
        self.init(client: client, owned: true, maxBatch: maxBatch, maxDelay: maxDelay, metricsFactory: metricsFactory, logger: logger)
    }

    /// Publishes through an existing client; `owned` makes this service run and stop its connections.
    public convenience init<Transport: ClientTransport>(client: GRPCClient<Transport>, owned: Bool, maxBatch: Int = 100,
                                                        maxDelay: Duration = .milliseconds(10),
                                                        metricsFactory: (any MetricsFactory)? = nil, logger: Logger) {
        let router = Oaas_Router_RouterService.Client(wrapping: client)
        self.init(maxBatch: maxBatch, maxDelay: maxDelay, metricsFactory: metricsFactory, logger: logger) { events in
            var request = Oaas_Router_PublishRequest()
            request.events = events
            var options = CallOptions.defaults
            options.timeout = .seconds(5)
            _ = try await router.publish(request, options: options)
        }
        if owned {
            self.runClientBox.withLock { $0 = (
                { do { try await client.runConnections() } catch { logger.debug("router client stopped", metadata: ["error": "\(error)"]) } },
                { client.beginGracefulShutdown() }
            ) }
        }
    }

    private let runClientBox = Mutex<(run: @Sendable () async -> Void, stop: @Sendable () -> Void)?>(nil)

    public func publish(_ event: Oaas_Router_ObjectChangeEvent) {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped, state.queue.count < queueLimit else { return false }
            state.queue.append(event)
            return true
        }
        if accepted {
            signal.yield()
        } else {
            failures.increment()
        }
    }

    /// Events queued and not yet sent.
    public var pending: Int { state.withLock { $0.queue.count } }

    public func run() async throws {
        let client = runClientBox.withLock { $0 }
        await withDiscardingTaskGroup { group in
            if let client { group.addTask { await client.run() } }
            await cancelWhenGracefulShutdown { await self.sendLoop() }
            // Whatever is still queued gets one last try before the connection goes.
            await self.flush()
            client?.stop()
        }
    }

    private func sendLoop() async {
        for await _ in signals {
            // Wait up to maxDelay for a batch to fill, unless one is full already.
            if state.withLock({ $0.queue.count }) < maxBatch {
                do {
                    try await Task.sleep(for: maxDelay)
                } catch {
                    return
                }
            }
            await flush()
        }
    }

    private func flush() async {
        while true {
            let batch: [Oaas_Router_ObjectChangeEvent] = state.withLock { state in
                let count = min(maxBatch, state.queue.count)
                defer { state.queue.removeFirst(count) }
                return Array(state.queue.prefix(count))
            }
            if batch.isEmpty { return }
            do {
                try await send(batch)
            } catch {
                failures.increment(by: batch.count)
                logger.debug("change event publish failed", metadata: ["events": "\(batch.count)", "error": "\(error)"])
            }
        }
    }
}
