import GRPCCore
import OaaSCore
import OaaSProto
import RouterClient

/// `oaas.router.RouterService/Subscribe` and `GetRoutes` on the gateway listener, proxied to the router for clients
/// that cannot reach it (spec §8.7). The node-facing RPCs (Register, Heartbeat, Publish, Forward, ...) are the
/// router's own business: UNIMPLEMENTED here.
public struct RouterProxyService: Oaas_Router_RouterService.SimpleServiceProtocol {
    private let feed: any RouterFeed

    public init(feed: any RouterFeed) {
        self.feed = feed
    }

    public func getRoutes(request: Oaas_Router_GetRoutesRequest, context: ServerContext) async throws -> Oaas_Router_RouteTable {
        try await proxied { try await feed.getRoutes(request) }
    }

    public func subscribe(request: Oaas_Router_SubscribeRequest, response: RPCWriter<Oaas_Router_EventDelivery>,
                          context: ServerContext) async throws {
        if request.clsID.isEmpty { throw OaaSError(.invalidArgument, "cls_id required").rpcError }
        try await proxied {
            try await feed.subscribe(request) { delivery in try await response.write(delivery) }
        }
    }

    public func register(request: Oaas_Router_RegisterRequest, context: ServerContext) async throws -> Oaas_Router_RegisterResponse {
        throw Self.routerOnly("Register")
    }

    public func heartbeat(request: Oaas_Router_HeartbeatRequest, context: ServerContext) async throws -> Oaas_Router_HeartbeatResponse {
        throw Self.routerOnly("Heartbeat")
    }

    public func deregister(request: Oaas_Router_DeregisterRequest, context: ServerContext) async throws -> Oaas_Router_Ack {
        throw Self.routerOnly("Deregister")
    }

    public func watchRoutes(request: Oaas_Router_WatchRoutesRequest, response: RPCWriter<Oaas_Router_RouteTable>,
                            context: ServerContext) async throws {
        throw Self.routerOnly("WatchRoutes")
    }

    public func publish(request: Oaas_Router_PublishRequest, context: ServerContext) async throws -> Oaas_Router_PublishResponse {
        throw Self.routerOnly("Publish")
    }

    public func forward(request: Oaas_Router_ForwardRequest, context: ServerContext) async throws -> Oaas_Router_ForwardResponse {
        throw Self.routerOnly("Forward")
    }

    private static func routerOnly(_ method: String) -> RPCError {
        RPCError(code: .unimplemented, message: "\(method) is served by the router, not the gateway; call OPRC_ROUTER_URL")
    }

    /// The router's own statuses pass through; anything else (it is unreachable) is UNAVAILABLE.
    private func proxied<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .unavailable, message: "router: \(error)")
        }
    }
}
