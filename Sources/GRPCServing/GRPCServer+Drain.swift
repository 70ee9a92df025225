import GRPCCore
import ServiceLifecycle

extension GRPCServer {
    /// Serves until the enclosing service group shuts down gracefully, then drains for at most `grace`.
    ///
    /// grpc-swift's own graceful shutdown waits for every connection to close, however long that takes; under
    /// load we saw it wait for minutes after every client had gone. Here in-flight calls get `grace` to finish,
    /// then the server stops hard (cancelling `serve()` closes the connections), and `onExpiry` is told.
    public func serve(drainingWithin grace: Duration, onExpiry: @Sendable @escaping () -> Void = {}) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.serve()
                return false
            }
            group.addTask {
                do {
                    try await gracefulShutdown()
                } catch {
                    return false // cancelled: the serving child is cancelled with us
                }
                self.beginGracefulShutdown()
                do {
                    try await Task.sleep(for: grace)
                } catch {
                    return false // serve() finished first
                }
                return true
            }
            defer { group.cancelAll() }
            if try await group.next() == true {
                onExpiry()
            }
        }
    }
}
