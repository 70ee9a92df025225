import Foundation
import HTTPTestSupport
import Hummingbird
import Logging
import NIOCore

/// An in-memory Kubernetes API server over plain HTTP/1.1 for tests (what it covers: `COVERAGE.md`).
///
/// ```swift
/// let server = try await KubeTestServer.start(port: 0)
/// try server.writeKubeconfig(to: path)          // KUBECONFIG for a child `oaas serve --role crm`
/// …
/// await server.shutdown()
/// ```
/// or scoped: `try await KubeTestServer.withRunning { server in … }`.
public final class KubeTestServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// Events retained for watches to resume from; a watch from an older version gets 410 Gone.
        public var eventWindow: Int
        /// BOOKMARK period of watches that allow bookmarks.
        public var bookmarkInterval: Duration
        /// Watch length when the client sends no `timeoutSeconds`, and the cap on what it sends.
        public var defaultWatchTimeout: Duration
        public var maxWatchTimeout: Duration
        /// Pause before each garbage-collection step (the real collector is asynchronous too).
        public var garbageCollectionDelay: Duration
        public var initialResourceVersion: Int64
        public var maxRequestBytes: Int
        /// When set, every API request needs `Authorization: Bearer <token>` (else 401).
        public var requiredToken: String?
        public var logger: Logger

        public init(
            host: String = "127.0.0.1", port: Int = 0, eventWindow: Int = 1000,
            bookmarkInterval: Duration = .seconds(5), defaultWatchTimeout: Duration = .seconds(300),
            maxWatchTimeout: Duration = .seconds(1800), garbageCollectionDelay: Duration = .zero,
            initialResourceVersion: Int64 = 1000, maxRequestBytes: Int = 8 * 1024 * 1024,
            requiredToken: String? = nil, logger: Logger = Logger(label: "oaas.kube-test-server")
        ) {
            self.host = host
            self.port = port
            self.eventWindow = eventWindow
            self.bookmarkInterval = bookmarkInterval
            self.defaultWatchTimeout = defaultWatchTimeout
            self.maxWatchTimeout = maxWatchTimeout
            self.garbageCollectionDelay = garbageCollectionDelay
            self.initialResourceVersion = initialResourceVersion
            self.maxRequestBytes = maxRequestBytes
            self.requiredToken = requiredToken
            self.logger = logger
        }
    }

    public enum StartError: Error, CustomStringConvertible {
        case notListening(String)

        public var description: String {
            switch self {
            case .notListening(let why): return "the test API server did not start: \(why)"
            }
        }
    }

    public let configuration: Configuration
    /// `http://127.0.0.1:<port>`
    public let url: String
    public let port: Int
    let store: Store
    private let server: BackgroundApplication
    private let collectorTask: Task<Void, Never>

    private init(
        configuration: Configuration, port: Int, store: Store, server: BackgroundApplication,
        collectorTask: Task<Void, Never>
    ) {
        self.configuration = configuration
        self.port = port
        self.url = "http://\(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host):\(port)"
        self.store = store
        self.server = server
        self.collectorTask = collectorTask
    }

    /// Starts listening and returns once the port is bound.
    public static func start(_ configuration: Configuration = Configuration()) async throws -> KubeTestServer {
        let store = Store(initialRevision: configuration.initialResourceVersion, eventWindow: configuration.eventWindow)
        store.withState { $0.requiredToken = configuration.requiredToken }
        let server: BackgroundApplication
        do {
            server = try await BackgroundApplication.start(name: "test API server", logger: configuration.logger) {
                Application(
                    responder: KubeResponder(store: store, configuration: configuration),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
                    onServerRunning: $0,
                    logger: configuration.logger
                )
            }
        } catch {
            throw StartError.notListening("could not listen on \(configuration.host):\(configuration.port)")
        }
        // The collector outlives this call by design: `shutdown()` ends it and awaits it.
        let delay = configuration.garbageCollectionDelay
        let collectorTask = Task { await store.runGarbageCollector(delay: delay) }
        return KubeTestServer(configuration: configuration, port: server.port, store: store, server: server,
                              collectorTask: collectorTask)
    }

    /// `start` with the default configuration on `port` (0: a free port).
    public static func start(port: Int) async throws -> KubeTestServer {
        try await start(Configuration(port: port))
    }

    /// Runs `body` with a started server and always shuts it down afterwards.
    public static func withRunning<T: Sendable>(
        _ configuration: Configuration = Configuration(), _ body: (KubeTestServer) async throws -> T
    ) async throws -> T {
        let server = try await start(configuration)
        do {
            let result = try await body(server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Ends every watch, stops the collector and the listener, and waits for both. Idempotent.
    public func shutdown() async {
        store.withState { state in
            state.shuttingDown = true
            state.closeWatches()
        }
        store.finishGarbageCollector()
        await server.stop()
        await collectorTask.value
    }
}
