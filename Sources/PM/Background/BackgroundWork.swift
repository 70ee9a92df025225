import Logging
import ServiceLifecycle

/// Work a request starts but does not wait for (redeploys after a package update, spec §5.6), run one job at a
/// time by a service so it stays inside the process's structured lifetime.
final class BackgroundWork: Service, Sendable {
    typealias Job = @Sendable () async -> Void

    private let stream: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Job.self)
    }

    /// Queues a job; it runs once the service runs (immediately when it already does).
    func submit(_ job: @escaping Job) {
        continuation.yield(job)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await job in self.stream {
                if Task.isCancelled { break }
                await job()
            }
        }
    }
}
