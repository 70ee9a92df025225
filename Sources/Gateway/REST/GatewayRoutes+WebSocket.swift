import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import OaaSCore
import OaaSProto
import RouterClient

/// The gateway's WebSocket routes (data-plane spec §8.2, §8.6): `O/ws`, `B/ws` and `/api/class/{cls}/ws` upgrade and
/// stream the router's change events of that object, partition or class as JSON text frames. The server pings every
/// 30 s and ignores client data frames; a failed subscription closes the socket with 1011 and the reason.
///
/// The routes live on the HTTP/1 channel (an upgrade happens before any router sees the request), so the launcher
/// hands ``channel(responder:)`` to the listener when `GATEWAY_WS_ENABLED` is set; otherwise these paths are 404.
public struct GatewayWebSocketRoutes: Sendable {
    private let feed: any RouterFeed
    private let rules: IdentityRules
    private let pingInterval: Duration

    public init(feed: any RouterFeed, config: GatewayConfig, pingInterval: Duration = .seconds(30)) {
        self.feed = feed
        self.rules = IdentityRules(maxStringIdLength: config.maxStringIdLength)
        self.pingInterval = pingInterval
    }

    /// The HTTP/1.1 connection handler of the gateway listener: REST as usual, plus the WebSocket upgrades.
    public func channel(responder: @escaping HTTPChannelHandler.Responder) -> HTTP1WebSocketUpgradeChannel {
        HTTP1WebSocketUpgradeChannel(
            responder: responder,
            configuration: .init(http1: .init(), ws: .init(autoPing: .enabled(timePeriod: pingInterval)))
        ) { request, _, _ in
            guard let path = request.path, let subscription = try? Self.subscription(forPath: path, rules: rules) else {
                return .dontUpgrade
            }
            return .upgrade([:]) { inbound, outbound, context in
                await stream(subscription, inbound: inbound, outbound: outbound, logger: context.logger)
            }
        }
    }

    /// The subscription a WebSocket path asks for; nil when the path is not one of the WS routes.
    /// - Throws: an ``OaaSError`` naming the bad segment (class, partition or object id).
    public static func subscription(forPath rawPath: String, rules: IdentityRules) throws(OaaSError) -> Oaas_Router_SubscribeRequest? {
        let path = rawPath.split(separator: "?", maxSplits: 1).first.map(String.init) ?? rawPath
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard segments.count >= 4, segments[0] == "api", segments[1] == "class", segments.last == "ws" else { return nil }
        var request = Oaas_Router_SubscribeRequest()
        request.clsID = try PathIdentity.cls(segments[2])
        if request.clsID.isEmpty { throw OaaSError(.invalidArgument, "cls_id required") }
        switch segments.count {
        case 4:
            return request
        case 5:
            request.partitionID = try PathIdentity.partition(segments[3])
            return request
        case 7 where segments[4] == "objects" || segments[4] == "objects-str":
            request.partitionID = try PathIdentity.partition(segments[3])
            let (numeric, string) = try PathIdentity.objectID(segments[5], forceString: segments[4] == "objects-str")
            switch try rules.objectID(numeric: numeric, string: string) {
            case .numeric(let id): request.objectID = id
            case .string(let id): request.objectIDStr = id
            }
            return request
        default:
            return nil
        }
    }

    /// Relays deliveries as text frames until the client goes away or the subscription fails.
    private func stream(_ request: Oaas_Router_SubscribeRequest, inbound: WebSocketInboundStream,
                        outbound: WebSocketOutboundWriter, logger: Logger) async {
        let failure: String? = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                // Client frames are ignored; reading them handles close and pong frames. The end means the client left.
                do {
                    for try await _ in inbound {}
                } catch {}
                return nil
            }
            group.addTask { [feed] in
                do {
                    try await feed.subscribe(request) { delivery in
                        if delivery.droppedBefore > 0 {
                            try await outbound.write(.text(ChangeEventFrame.gap(dropped: delivery.droppedBefore)))
                        }
                        if delivery.hasEvent {
                            try await outbound.write(.text(ChangeEventFrame.event(delivery.event)))
                        }
                    }
                    return "router subscription ended"
                } catch {
                    if Task.isCancelled { return nil }
                    return "subscription failed: \(OaaSError.from(error).message)"
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let failure else { return }
        logger.debug("WebSocket subscription closed", metadata: ["cls": "\(request.clsID)", "reason": "\(failure)"])
        // Close reasons must fit a control frame (125 bytes, 2 of them the code).
        try? await outbound.close(.unexpectedServerError, reason: String(failure.utf8.prefix(120)) ?? "subscription failed")
    }
}
