import GRPCCore
import OaaSProto

/// The router calls a gateway makes on behalf of its clients (spec §8.7): change-event subscriptions (also behind
/// the WebSocket routes, §8.2) and route table reads.
public protocol RouterFeed: Sendable {
    /// Calls `body` with each delivery until the stream ends (returns), fails (throws) or the task is cancelled.
    func subscribe(_ request: Oaas_Router_SubscribeRequest,
                   _ body: @escaping @Sendable (Oaas_Router_EventDelivery) async throws -> Void) async throws
    func getRoutes(_ request: Oaas_Router_GetRoutesRequest) async throws -> Oaas_Router_RouteTable
}

/// ``RouterFeed`` over a gRPC client of the router (network or in-process transport).
public struct GRPCRouterFeed<Transport: ClientTransport>: RouterFeed {
    private let router: Oaas_Router_RouterService.Client<Transport>

    public init(client: GRPCClient<Transport>) {
        router = Oaas_Router_RouterService.Client(wrapping: client)
    }

    public func subscribe(_ request: Oaas_Router_SubscribeRequest,
                          _ body: @escaping @Sendable (Oaas_Router_EventDelivery) async throws -> Void) async throws {
        var options = CallOptions.defaults
        options.waitForReady = false
        try await router.subscribe(request, options: options) { response in
            for try await delivery in response.messages { try await body(delivery) }
        }
    }

    public func getRoutes(_ request: Oaas_Router_GetRoutesRequest) async throws -> Oaas_Router_RouteTable {
        var options = CallOptions.defaults
        options.timeout = .seconds(10)
        return try await router.getRoutes(request, options: options)
    }
}
