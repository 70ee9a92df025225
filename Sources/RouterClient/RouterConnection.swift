import GRPCCore
import GRPCTransports
import GRPCNIOTransportHTTP2
import Logging
import OaaSCore
import ServiceLifecycle

/// A long-lived connection to the router (`OPRC_ROUTER_URL`), run as a service, for calls that are not the route
/// watch or the registration (which keep their own): subscriptions and GetRoutes on behalf of gateway clients.
public struct RouterConnection: Service {
    public let client: GRPCClient<DataPathClientTransport>
    private let logger: Logger

    /// - Throws: `ConfigurationError` naming `OPRC_ROUTER_URL` when the URL is unusable.
    public init(routerURL: String, logger: Logger) throws(ConfigurationError) {
        guard let endpoint = GRPCEndpoint(url: routerURL) else {
            throw ConfigurationError("OPRC_ROUTER_URL: '\(routerURL)' is not an http://host:port URL")
        }
        do {
            client = try endpoint.makeClient()
        } catch {
            throw ConfigurationError("OPRC_ROUTER_URL: cannot set up a connection to \(routerURL): \(error)")
        }
        self.logger = logger
    }

    public var feed: GRPCRouterFeed<DataPathClientTransport> { GRPCRouterFeed(client: client) }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            client.beginGracefulShutdown()
        }
    }
}
