import ServiceLifecycle

/// Refreshes every env's health every `CRM_HEALTH_CHECK_INTERVAL` (spec §5.8), starting at once so the first
/// placement and `/health` have data.
struct HealthPoller: Service {
    let monitor: HealthMonitor
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await monitor.healthOfAll(refresh: true)
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }
}
