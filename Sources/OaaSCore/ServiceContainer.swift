import Logging
import Prometheus
import ServiceLifecycle
import Storage

/// What the roles of one process share: configuration, logger, metrics, storage handles and the
/// registry of in-process service implementations.
///
/// A role registers the services it offers (`ObjectStore`, ...) under their protocol type; another
/// role in the same process resolves them and calls them directly, with no network hop. Long-lived
/// parts are added as `Service`s and run together by one `ServiceGroup`.
public actor ServiceContainer {
    public nonisolated let logger: Logger
    public nonisolated let env: EnvReader
    public nonisolated let metrics: PrometheusCollectorRegistry
    /// True under `oaas dev`: enables dev-only behaviour such as auto-created collections.
    public nonisolated let devMode: Bool
    /// Every LMDB environment of the process; closed once all services have stopped.
    public nonisolated let storage = StorageRegistry()

    private var registry: [ObjectIdentifier: any Sendable] = [:]
    private var services: [any Service] = []
    private var readinessChecks: [String: @Sendable () async -> String?] = [:]
    private var shutdownHooks: [@Sendable () async -> Void] = []

    public init(logger: Logger, env: EnvReader, metrics: PrometheusCollectorRegistry, devMode: Bool) {
        self.logger = logger
        self.env = env
        self.metrics = metrics
        self.devMode = devMode
    }

    /// Offers `implementation` as the in-process provider of `type`.
    public func register<P>(_ type: P.Type, _ implementation: P) where P: Sendable {
        registry[ObjectIdentifier(type)] = implementation
    }

    /// The in-process provider of `type`, if a role of this process registered one.
    public func resolve<P>(_ type: P.Type) -> P? {
        registry[ObjectIdentifier(type)] as? P
    }

    /// Adds a long-lived service to the process's service group.
    public func addService(_ service: any Service) {
        services.append(service)
    }

    public var allServices: [any Service] { services }

    /// Adds a readiness condition: the closure returns nil when ready, else the reason.
    public func addReadinessCheck(_ name: String, _ check: @escaping @Sendable () async -> String?) {
        readinessChecks[name] = check
    }

    /// Reasons the process is not ready; empty when it is.
    public func notReadyReasons() async -> [String] {
        var reasons: [String] = []
        for (_, check) in readinessChecks.sorted(by: { $0.key < $1.key }) {
            if let reason = await check() { reasons.append(reason) }
        }
        return reasons
    }

    /// Runs at shutdown, after every service stopped (closing storage, flushing).
    public func onShutdown(_ hook: @escaping @Sendable () async -> Void) {
        shutdownHooks.append(hook)
    }

    /// Runs the shutdown hooks, then closes storage.
    public func shutdown() async {
        for hook in shutdownHooks.reversed() { await hook() }
        shutdownHooks.removeAll()
        storage.closeAll()
    }
}
