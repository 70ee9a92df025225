import Kube
import Logging
import ServiceLifecycle
import Synchronization

/// What the CRM learns about its cluster (control-plane spec §9.1, §11.1): whether Knative Serving is installed
/// (`serving.knative.dev/v1` with `services`), re-checked every 5 minutes, and so which templates are registered.
/// Every replica runs it: GetEnvHealth reports the templates, the controller selects among them.
final class ClusterDiscovery: Sendable {
    static let knativeGroupVersion = "serving.knative.dev/v1"
    static let baseTemplates = ["dev", "edge", "cloud"]

    private struct State {
        /// nil until the first answer.
        var knativePresent: Bool?
        var subscribers: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextSubscriber = 0
    }

    private let state = Mutex(State())
    let knativeEnabled: Bool

    init(knativeEnabled: Bool) {
        self.knativeEnabled = knativeEnabled
    }

    var knativePresent: Bool { state.withLock { $0.knativePresent ?? false } }
    /// Whether Knative presence has been determined at least once.
    var knativeKnown: Bool { state.withLock { $0.knativePresent != nil } }

    /// The knative template is registered iff the feature is on and Knative is served.
    var knativeAvailable: Bool { knativeEnabled && knativePresent }

    /// Registered template names, sorted as reported to PM.
    var registeredTemplates: [String] {
        Self.baseTemplates + (knativeAvailable ? ["knative"] : [])
    }

    func setKnativePresent(_ present: Bool) {
        let subscribers: [AsyncStream<Void>.Continuation] = state.withLock { state in
            guard state.knativePresent != present else { return [] }
            state.knativePresent = present
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield() }
    }

    /// Fires after every change of what was discovered.
    func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            defer { state.nextSubscriber += 1 }
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// One discovery round: absent (404) and present are decided; other failures keep what was known.
    func refresh(client: KubeClient, health: APIServerHealth?, logger: Logger) async {
        guard knativeEnabled else {
            setKnativePresent(false)
            return
        }
        do {
            let resources = try await client.serverResources(groupVersion: Self.knativeGroupVersion)
            health?.recordAnswer()
            let present = resources.contains("services")
            if present != knativePresent || !knativeKnown {
                logger.info("knative discovery", metadata: ["present": "\(present)"])
            }
            setKnativePresent(present)
        } catch let error as KubeError where error.isNotFound {
            health?.recordAnswer()
            setKnativePresent(false)
        } catch {
            health?.record(error)
            logger.warning("knative discovery failed; keeping the last answer", metadata: ["error": "\(error)"])
        }
    }
}

/// Re-runs Knative discovery every `interval` (spec §9.1: 5 minutes).
struct DiscoveryService: Service {
    let discovery: ClusterDiscovery
    let client: KubeClient
    let health: APIServerHealth
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await discovery.refresh(client: client, health: health, logger: logger)
                // Retry sooner while nothing is known yet (API server still starting).
                try await Task.sleep(for: discovery.knativeKnown ? interval : min(interval, .seconds(5)))
            }
        }
    }
}
