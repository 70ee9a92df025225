import GRPCCore
import OaaSCore
import OaaSProto
import ServiceLifecycle

/// `oaas.router.RouterService` (spec §7.1) over the route hub, the event hub and the forwarder.
struct RouterGRPCService: Oaas_Router_RouterService.ServiceProtocol {
    let hub: RouteHub
    let events: EventHub
    let forwarder: Forwarder
    let watchInterval: Duration

    func register(request: ServerRequest<Oaas_Router_RegisterRequest>, context: ServerContext) async throws
        -> ServerResponse<Oaas_Router_RegisterResponse> {
        try await respond { () async throws(OaaSError) in try await hub.register(request.message) }
    }

    func heartbeat(request: ServerRequest<Oaas_Router_HeartbeatRequest>, context: ServerContext) async throws
        -> ServerResponse<Oaas_Router_HeartbeatResponse> {
        try await respond { () async throws(OaaSError) in try await hub.heartbeat(request.message) }
    }

    func deregister(request: ServerRequest<Oaas_Router_DeregisterRequest>, context: ServerContext) async throws
        -> ServerResponse<Oaas_Router_Ack> {
        await hub.deregister(leaseID: request.message.leaseID)
        return ServerResponse(message: Oaas_Router_Ack())
    }

    func getRoutes(request: ServerRequest<Oaas_Router_GetRoutesRequest>, context: ServerContext) async throws
        -> ServerResponse<Oaas_Router_RouteTable> {
        let message = request.message
        let table = await hub.table(clsID: message.hasClsID ? message.clsID : nil, localOnly: message.localOnly)
        return ServerResponse(message: table)
    }

    func watchRoutes(request: ServerRequest<Oaas_Router_WatchRoutesRequest>, context: ServerContext) async throws
        -> StreamingServerResponse<Oaas_Router_RouteTable> {
        let stream = RouteWatchStream(hub: hub, request: request.message, interval: watchInterval)
        return StreamingServerResponse { writer in
            try await stream.run(writer: writer)
            return [:]
        }
    }

    func publish(request: ServerRequest<Oaas_Router_PublishRequest>, context: ServerContext) async throws
        -> ServerResponse<Oaas_Router_PublishResponse> {
        let events = request.message.events
        do {
            try EventHub.validate(events)
        } catch {
            throw error.rpcError
        }
        var response = Oaas_Router_PublishResponse()
        response.accepted = UInt32(clamping: self.events.publish(events, bridged: false))
        return ServerResponse(message: response)
    }

    func subscribe(request: ServerRequest<Oaas_Router_SubscribeRequest>, context: ServerContext) async throws
        -> StreamingServerResponse<Oaas_Router_EventDelivery> {
        let filter: SubscriptionFilter
        do {
            filter = try SubscriptionFilter(request.message)
        } catch {
            throw error.rpcError
        }
        let events = self.events
        return StreamingServerResponse { writer in
            // Registered inside the producer so that a stream that never starts leaves no subscriber behind.
            let subscriber = events.subscribe(filter)
            defer { events.unsubscribe(subscriber) }
            // Ends when the client goes away or the server shuts down gracefully (which waits for open calls).
            try await withGracefulShutdownHandler {
                try await withRPCCancellationHandler {
                    for await _ in subscriber.signals {
                        while let delivery = subscriber.next() { try await writer.write(delivery) }
                    }
                } onCancelRPC: {
                    subscriber.close()
                }
            } onGracefulShutdown: {
                subscriber.close()
            }
            return [:]
        }
    }

    func forward(request: ServerRequest<Oaas_Router_ForwardRequest>, context: ServerContext) async throws
        -> ServerResponse<Oaas_Router_ForwardResponse> {
        let callerTimeout = ForwardMetadata.timeout(request.metadata[stringValues: "grpc-timeout"].first(where: { _ in true }))
        return try await respond { () async throws(OaaSError) in
            try await forwarder.forward(request.message, callerTimeout: callerTimeout)
        }
    }

    /// Runs `body` and turns an `OaaSError` into its gRPC status (with the REST code in metadata).
    private func respond<Message: Sendable>(_ body: () async throws(OaaSError) -> Message) async throws -> ServerResponse<Message> {
        do {
            return ServerResponse(message: try await body())
        } catch {
            throw error.rpcError
        }
    }
}
