import Kube
import Logging
import ServiceLifecycle

/// Pings the API server (`GET /api/v1`, allowed to every authenticated client) so `APIServerHealth` reflects
/// reachability even when no request or reconcile is running.
struct APIServerProbe: Service {
    let client: KubeClient
    let health: APIServerHealth
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            var wasServing: Bool?
            while !Task.isCancelled {
                do {
                    _ = try await client.serverResources(groupVersion: "v1")
                    health.recordAnswer()
                } catch is CancellationError {
                    return
                } catch {
                    health.record(error)
                    logger.debug("API server probe failed", metadata: ["error": "\(error)"])
                }
                let serving = health.isServing()
                if serving != wasServing {
                    logger.info(serving ? "kubernetes API server reachable" : "kubernetes API server unreachable")
                    wasServing = serving
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
