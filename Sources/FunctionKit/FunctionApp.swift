import Foundation
import Logging
import ServiceLifecycle

/// A function runtime (data-plane spec §10): register a handler per `fn_id`, then ``run()``.
///
/// ```swift
/// var app = try FunctionApp()          // HTTP_PORT, ODGM_SERVICE, LOG_LEVEL from the environment
/// app.stateless("echo") { call in .ok(call.payload, contentType: call.options["content-type"]) }
/// app.object("count") { call in
///     let n = try await call.object.string("count").flatMap { Int($0) } ?? 0
///     try await call.object.set("count", String(n + 1))
///     return try .ok(json: ["count": n + 1])
/// }
/// try await app.run()                   // until SIGTERM or SIGINT
/// ```
public struct FunctionApp: Sendable {
    public var configuration: FunctionConfiguration
    public var logger: Logger
    private var registry = FunctionRegistry()

    /// An app configured by hand. Without a `logger`, one labelled `oaas.function` logs at the
    /// configured level; a given logger is used as it is.
    public init(configuration: FunctionConfiguration, logger: Logger? = nil) {
        self.configuration = configuration
        if let logger {
            self.logger = logger
        } else {
            var logger = Logger(label: "oaas.function")
            logger.logLevel = configuration.logLevel
            self.logger = logger
        }
    }

    /// An app configured from the environment (``FunctionConfiguration/fromEnvironment(_:)``).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        self.init(configuration: try FunctionConfiguration.fromEnvironment(environment))
    }

    /// Serves `fnID` through InvokeFn. Registering an id again replaces its stateless handler.
    public mutating func stateless(_ fnID: String, _ handler: @escaping StatelessHandler) {
        registry.stateless[fnID] = handler
    }

    /// Serves `fnID` through InvokeObj. Registering an id again replaces its object handler.
    public mutating func object(_ fnID: String, _ handler: @escaping ObjectHandler) {
        registry.object[fnID] = handler
    }

    /// Every registered function id, sorted.
    public var functionIDs: [String] { registry.functionIDs }

    /// The runtime as a `Service`, to run in your own `ServiceGroup` (tests, or next to other services).
    /// `onListening` gets the bound port once the server listens.
    public func makeServer(onListening: (@Sendable (Int) async -> Void)? = nil) throws -> FunctionServer {
        try FunctionServer(configuration: configuration, registry: registry, logger: logger, onListening: onListening)
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully.
    public func run(onListening: (@Sendable (Int) async -> Void)? = nil) async throws {
        let server = try makeServer(onListening: onListening)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
