import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import OaaSCore
import OaaSProto

/// The data routes of the gateway's REST API (data-plane spec §8.2–§8.4).
///
/// `register(on:)` adds the request metrics middleware and the JSON error envelope first, so they
/// also cover the router's not-found path and routes that others add to the same router later.
public struct GatewayRoutes: Sendable {
    let store: GatewayObjectStore
    /// Nil when the gateway has nothing to call: the invocation routes answer 503.
    let invoker: GatewayInvoker?
    let asyncInvoker: GatewayAsyncInvoker?
    let config: GatewayConfig
    let logger: Logger
    let httpMetrics: HTTPMetrics

    /// `store` is normally the process's ``GatewayObjectStore`` (shared with the gRPC ingress);
    /// any other store is wrapped in one, so ids are always validated and counted exactly once.
    /// The invokers are treated alike (``GatewayInvoker``, ``GatewayAsyncInvoker``).
    public init(store: any ObjectStore, config: GatewayConfig, logger: Logger,
                invoker: (any Invoker)? = nil, asyncInvoker: (any AsyncInvoker)? = nil) {
        self.init(store: store, config: config, logger: logger, metricsFactory: nil, invoker: invoker, asyncInvoker: asyncInvoker)
    }

    /// As above, recording metrics through `metricsFactory` instead of the global one.
    public init(store: any ObjectStore, config: GatewayConfig, logger: Logger, metricsFactory: (any MetricsFactory)?,
                invoker: (any Invoker)? = nil, asyncInvoker: (any AsyncInvoker)? = nil) {
        let factory = metricsFactory ?? MetricsSystem.factory
        self.store = store as? GatewayObjectStore ?? GatewayObjectStore(upstream: store, config: config, metricsFactory: factory)
        self.invoker = invoker.map { $0 as? GatewayInvoker ?? GatewayInvoker(upstream: $0, config: config, metricsFactory: factory) }
        self.asyncInvoker = asyncInvoker.map { $0 as? GatewayAsyncInvoker ?? GatewayAsyncInvoker(upstream: $0, config: config, metricsFactory: factory) }
        self.config = config
        self.logger = logger
        self.httpMetrics = HTTPMetrics(factory: factory)
    }

    /// Adds the data routes, the request metrics middleware and the JSON error envelope to `router`.
    public func register(on router: Router<BasicRequestContext>) {
        let routes = routeTable()
        var known = KnownRoutes()
        for route in routes { known.add(route.path, route.method) }
        // Router middleware applies to routes added after it and to the not-found responder.
        router.add(middleware: RequestMetricsMiddleware(metrics: httpMetrics))
        router.add(middleware: ErrorEnvelopeMiddleware(knownRoutes: known))
        for route in routes {
            router.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
        logger.debug("gateway REST routes registered", metadata: ["count": "\(routes.count)"])
    }

    // MARK: Route table

    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    struct Route {
        let path: String
        let method: HTTPRequest.Method
        let handler: Handler
    }

    /// WebSocket routes are not here yet, so they answer 404 like any unknown path.
    func routeTable() -> [Route] {
        let base = "/api/class/{cls}/{pid}"
        var routes: [Route] = [
            Route(path: "\(base)/objects", method: .get) { try await listObjects($0, $1) },
            Route(path: "/api/capabilities", method: .get) { request, _ in try await capabilities(request) },
            Route(path: "/api/stats", method: .get) { request, _ in try await stats(request) },
        ]
        routes += invocationRoutes(prefix: base, target: nil)
        for (segment, parameter, forceString) in [("objects", "oid", false), ("objects-str", "sid", true)] {
            let object = "\(base)/\(segment)/{\(parameter)}"
            let target = ObjectTarget(parameter: parameter, forceString: forceString)
            routes += [
                Route(path: object, method: .get) { try await getObject($0, $1, target) },
                Route(path: object, method: .put) { try await setObject($0, $1, target) },
                Route(path: object, method: .patch) { try await mergeObject($0, $1, target) },
                Route(path: object, method: .delete) { try await deleteObject($0, $1, target) },
                Route(path: "\(object)/entries", method: .get) { try await listEntries($0, $1, target) },
                Route(path: "\(object)/batch-set", method: .post) { try await batchSet($0, $1, target) },
            ]
            routes += invocationRoutes(prefix: object, target: target)
            for (entrySegment, forceStringKey) in [("entries", false), ("entries-str", true)] {
                let entry = "\(object)/\(entrySegment)/{key}"
                routes += [
                    Route(path: entry, method: .get) { try await getEntry($0, $1, target, forceStringKey) },
                    Route(path: entry, method: .put) { try await setEntry($0, $1, target, forceStringKey) },
                    Route(path: entry, method: .delete) { try await deleteEntry($0, $1, target, forceStringKey) },
                ]
            }
        }
        return routes
    }

    /// Which path parameter holds the object id, and whether it is always a string id.
    struct ObjectTarget: Sendable {
        let parameter: String
        let forceString: Bool
    }

    // MARK: Objects

    func getObject(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget) async throws -> Response {
        let address = try objectAddress(context, target)
        let call = try callContext(request)
        let response = try await store.get(address.singleObjectRequest, context: call)
        return try objectResponse(response, request: request)
    }

    func setObject(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget) async throws -> Response {
        let address = try objectAddress(context, target)
        let call = try callContext(request)
        let object = try await decodeBody(Oprc_ObjData.self, request)
        let version = try await store.set(try address.setObjectRequest(object), context: call)
        return Self.noContent(version: version)
    }

    func mergeObject(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget) async throws -> Response {
        let address = try objectAddress(context, target)
        let call = try callContext(request)
        let object = try await decodeBody(Oprc_ObjData.self, request)
        let response = try await store.merge(try address.setObjectRequest(object), context: call)
        return try objectResponse(response, request: request)
    }

    func deleteObject(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget) async throws -> Response {
        let address = try objectAddress(context, target)
        let call = try callContext(request)
        let version = try await store.delete(address.singleObjectRequest, context: call)
        return Self.noContent(version: version)
    }

    func batchSet(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget) async throws -> Response {
        let address = try objectAddress(context, target)
        let call = try callContext(request)
        let batch = try await decodeBody(Oprc_BatchSetValuesRequest.self, request)
        let version = try await store.batchSetValues(address.identify(batch), context: call)
        return Self.noContent(version: version)
    }

    // MARK: Entries

    func getEntry(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget, _ forceStringKey: Bool) async throws -> Response {
        let address = try objectAddress(context, target)
        let key = try PathIdentity.entryKey(context.parameters.get("key"), forceString: forceStringKey)
        let call = try callContext(request)
        let response = try await store.getValue(address.singleKeyRequest(key), context: call)
        guard response.hasValue else {
            throw OaaSError(.noEntry, "entry '\(key)' not found in object '\(address.display)'")
        }
        var headers = HTTPFields()
        if response.hasObjectVersion { headers[OprcHeader.objectVersion] = String(response.objectVersion) }
        headers[OprcHeader.valueType] = ValueTypeHeader.name(of: response.value.type)
        if MediaType.wantsJSON(request.headers) {
            return Self.body(try Self.json(response), contentType: MediaType.json, headers: headers)
        }
        return Self.body(response.value.data, contentType: MediaType.octetStream, headers: headers)
    }

    func setEntry(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget, _ forceStringKey: Bool) async throws -> Response {
        let address = try objectAddress(context, target)
        let key = try PathIdentity.entryKey(context.parameters.get("key"), forceString: forceStringKey)
        let call = try callContext(request)
        let headerType = try ValueTypeHeader.parse(request.headers[OprcHeader.valueType])
        let contentType = request.headers[.contentType]
        let data = try await collectBody(request)
        var value = Oprc_ValData()
        if MediaType.isProtobuf(contentType: contentType) {
            value = try Self.decodeProtobuf(Oprc_ValData.self, data)
            if let headerType { value.type = headerType }
        } else {
            // Any other Content-Type: the bytes are the value, stored verbatim.
            value.data = data
            value.type = headerType ?? .byte
        }
        let version = try await store.setValue(try address.setKeyRequest(key, value: value), context: call)
        return Self.noContent(version: version)
    }

    func deleteEntry(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget, _ forceStringKey: Bool) async throws -> Response {
        let address = try objectAddress(context, target)
        let key = try PathIdentity.entryKey(context.parameters.get("key"), forceString: forceStringKey)
        let call = try callContext(request)
        let version = try await store.deleteValue(address.singleKeyRequest(key), context: call)
        return Self.noContent(version: version)
    }

    // MARK: Lists

    func listObjects(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let cls = try PathIdentity.cls(context.parameters.get("cls"))
        let partition = try PathIdentity.partition(context.parameters.get("pid"))
        let query = try ListQuery(request.uri)
        let call = try callContext(request)
        var list = Oprc_ListObjectsRequest()
        list.clsID = cls
        list.partitionID = partition
        if let prefix = query.prefix { list.objectIDPrefix = prefix }
        list.limit = query.limit
        if let cursor = query.cursor { list.cursor = cursor }
        list.kind = query.objectIdKind
        let envelopes = try await store.listObjects(list, context: call)
        return Self.body(try ListJSON.objects(envelopes), contentType: MediaType.json)
    }

    func listEntries(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget) async throws -> Response {
        let address = try objectAddress(context, target)
        let query = try ListQuery(request.uri)
        let call = try callContext(request)
        var list = address.listValuesRequest
        if let prefix = query.prefix { list.keyPrefix = prefix }
        list.limit = query.limit
        if let cursor = query.cursor { list.cursor = cursor }
        list.keyKind = query.entryKeyKind
        let page = try await store.listValues(list, context: call)
        return Self.body(try ListJSON.entries(page), contentType: MediaType.json)
    }

    // MARK: Service

    func capabilities(_ request: Request) async throws -> Response {
        let response = try await store.capabilities(context: try callContext(request))
        return Self.body(try Self.json(response), contentType: MediaType.json)
    }

    func stats(_ request: Request) async throws -> Response {
        let response = try await store.stats(context: try callContext(request))
        return Self.body(try Self.json(response), contentType: MediaType.json)
    }
}
