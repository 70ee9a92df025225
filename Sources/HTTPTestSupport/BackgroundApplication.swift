import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A Hummingbird application served in the background for tests, stopped by graceful shutdown.
///
/// Cancelling a NIO server task while it accepts a connection traps ("Deinited NIOAsyncWriter without
/// calling finish()", swift-nio #2813): the accepted channel is dropped before anyone closes it. Graceful
/// shutdown closes the listener first and drains what was accepted, so `stop()` uses it and cancels only
/// when a handler outlives `grace`.
public final class BackgroundApplication: Sendable {
    public enum StartError: Error, CustomStringConvertible {
        case notListening(String)
        public var description: String {
            switch self {
            case .notListening(let what): "\(what) did not start listening"
            }
        }
    }

    /// The bound port.
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>
    private let grace: Duration
    private let name: String
    private let logger: Logger

    private init(port: Int, group: ServiceGroup, task: Task<Void, Never>, grace: Duration, name: String, logger: Logger) {
        self.port = port
        self.group = group
        self.task = task
        self.grace = grace
        self.name = name
        self.logger = logger
    }

    /// Builds the application with `make` (which must pass its argument as `onServerRunning`), runs it and
    /// returns once the port is bound.
    public static func start<App: ApplicationProtocol>(
        name: String,
        logger: Logger,
        grace: Duration = .seconds(10),
        _ make: (@escaping @Sendable (any Channel) async -> Void) -> App
    ) async throws -> BackgroundApplication {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = make { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            do {
                try await group.run()
            } catch {
                logger.error("\(name) stopped", metadata: ["error": "\(error)"])
            }
            continuation.finish()
        }
        var bound = 0
        for await port in ports {
            bound = port
            break
        }
        let server = BackgroundApplication(port: bound, group: group, task: task, grace: grace, name: name, logger: logger)
        guard bound > 0 else {
            await server.stop()
            throw StartError.notListening(name)
        }
        return server
    }

    /// Stops accepting, lets in-flight requests finish (up to `grace`, then cancels) and waits. Idempotent.
    /// A handler that ignores even cancellation is left behind after a further 5 s (and logged) rather than
    /// hanging the test that stops the server.
    public func stop() async {
        await group.triggerGracefulShutdown()
        if await finished(within: grace) { return }
        report("\(name) on port \(port) did not drain within \(grace); cancelling it")
        task.cancel()
        if await finished(within: .seconds(5)) { return }
        report("\(name) on port \(port) ignored cancellation; leaving it behind")
    }

    /// To the log and to stderr: a test's logger is usually silent, and this is what explains a slow teardown.
    private func report(_ message: String) {
        logger.warning("\(message)")
        FileHandle.standardError.write(Data("BackgroundApplication: \(message)\n".utf8))
    }

    /// Whether the serving task ends within `limit`; never waits longer.
    private func finished(within limit: Duration) async -> Bool {
        let task = task
        let answered = Mutex(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer: @Sendable (Bool) -> Void = { value in
                let first = answered.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            Task {
                await task.value
                answer(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                answer(false)
            }
        }
    }

    /// Runs `body` with a started application and always stops it afterwards.
    public func whileRunning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }
}
