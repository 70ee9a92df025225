import ServiceLifecycle

/// Expires leases that missed their heartbeats, so dead nodes drop out of the table within about 1.2 × TTL.
struct LeaseSweeper: Service {
    let hub: RouteHub
    let interval: Duration

    init(hub: RouteHub, leaseTTL: Duration) {
        self.hub = hub
        self.interval = max(leaseTTL / 5, .milliseconds(10))
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                await hub.expireLeases()
            }
        }
    }
}
