import CRM
import Foundation
import GRPCCore
import GRPCTransports
import GRPCServing
import GRPCInProcessTransport
import Gateway
import Hummingbird
import HummingbirdCore
import LocalRuntime
import Logging
import NetServer
import ODGM
import OaaSCore
import OaaSProto
import PM
import Router
import RouterClient
import ServiceLifecycle
import WasmRuntime

/// Every role's configuration, read once from the environment (with `oaas dev`'s flags applied), plus the
/// cross-role checks (listener clashes).
struct RoleConfigs {
    var odgm: ODGMConfig?
    var gateway: GatewayConfig?
    var pm: PMConfig?
    var crm: CRMConfig?
    var router: RouterConfig?
    /// `OAAS_GRPC_TRANSPORT`: the HTTP/2 engine of every gRPC listener of this process.
    var grpcTransport: GRPCTransportKind = .nghttp2

    init(roles: [Role], env: EnvReader, dev: Launcher.DevOptions?) {
        if let raw = env.lookup(GRPCTransportKind.environmentKey) {
            do {
                grpcTransport = try GRPCTransportKind.parse(raw.value)
            } catch {
                env.report(error.description)
            }
        }
        odgm = roles.contains(.odgm) ? ODGMConfig(env: env) : nil
        // `oaas dev` turns the WebSocket routes on by default (spec §8.1).
        gateway = roles.contains(.gateway) ? GatewayConfig(env: env, defaults: GatewayConfig(webSocketEnabled: dev != nil)) : nil
        crm = roles.contains(.crm) ? CRMConfig(env: env) : nil
        router = roles.contains(.router) ? RouterConfig(env: env) : nil
        if roles.contains(.pm) {
            var defaults = PMConfig.Defaults()
            if let dev {
                defaults = PMConfig.Defaults(
                    host: dev.host, port: dev.pmPort, listenerFromEnv: false,
                    storagePath: (dev.dataDir as NSString).appendingPathComponent("pm"),
                    memoryStorage: dev.memory, unknownEnvFallback: dev.envs.first)
            }
            pm = PMConfig(env: env, defaults: defaults)
        }
        if let dev {
            odgm?.dataDir = (dev.dataDir as NSString).appendingPathComponent("odgm")
            if dev.memory {
                odgm?.dataDir = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-dev-\(ProcessInfo.processInfo.processIdentifier)")
            }
            gateway?.httpPort = dev.gatewayPort
            if let port = dev.routerPort { router?.port = port }
            if dev.pmPort == dev.gatewayPort {
                env.report("--port and --gateway-port: both listeners would use port \(dev.pmPort); give them different ports")
            }
            return
        }
        // One process, several listeners: a shared port is a configuration error naming both variables.
        var listeners: [(variable: String, port: Int)] = []
        if let odgm { listeners.append(("ODGM_HTTP_PORT", odgm.httpPort)) }
        if let gateway { listeners.append(("HTTP_PORT", gateway.httpPort)) }
        if let pm = pm { listeners.append(("SERVER_PORT", pm.port)) }
        if let router { listeners.append(("OPRC_ROUTER_PORT", router.port)) }
        if let crm {
            listeners.append(("OPRC_CRM_HTTP_PORT (or HTTP_PORT)", crm.httpPort))
            if crm.grpcPort != crm.httpPort { listeners.append(("OPRC_CRM_GRPC_PORT (or GRPC_PORT)", crm.grpcPort)) }
        }
        for (index, first) in listeners.enumerated() where first.port != 0 {
            for second in listeners[(index + 1)...] where second.port == first.port {
                env.report("\(first.variable) and \(second.variable): both roles would listen on port \(first.port); give them different ports")
            }
        }
    }
}

/// Builds each configured role, in dependency order, into listeners and background services.
struct LaunchPlan: Sendable {
    let container: ServiceContainer
    let configs: RoleConfigs
    let host: String
    let dev: Launcher.DevOptions?
    let logger: Logger
    private(set) var servers: [RoleServer] = []
    private(set) var services: [any Service] = []
    private(set) var pm: PMRole?
    /// The in-process client of this process's router role, if it has one.
    private var routerClient: GRPCClient<InProcessTransport.Client>?

    init(container: ServiceContainer, configs: RoleConfigs, host: String, dev: Launcher.DevOptions?, logger: Logger) {
        self.container = container
        self.configs = configs
        self.host = host
        self.dev = dev
        self.logger = logger
    }

    func serverConfiguration(host: String, port: Int, maxMessageBytes: Int = 4 * 1024 * 1024) -> RoleServer.Configuration {
        RoleServer.Configuration(host: host, port: port, maxMessageBytes: maxMessageBytes, transport: configs.grpcTransport)
    }

    mutating func build() async throws {
        try await buildRouter()
        let node = try await buildODGM()
        try await buildGateway()
        var crms: [(env: String, client: any CRMClient)] = []
        if let crmConfig = configs.crm {
            let role = try await CRMRole(config: crmConfig, container: container, kube: nil)
            services += role.services
            let grpc = role.grpcServices + [HealthService(container: container)]
            servers.append(RoleServer(name: "crm", configuration: serverConfiguration(host: host, port: crmConfig.httpPort), services: grpc,
                                      router: probeRouter(), logger: logger))
            if crmConfig.grpcPort != crmConfig.httpPort {
                servers.append(RoleServer(name: "crm-grpc", configuration: serverConfiguration(host: host, port: crmConfig.grpcPort), services: grpc,
                                          router: probeRouter(), logger: logger))
            }
            if let pmConfig = configs.pm, pmConfig.envs.isEmpty {
                crms.append((crmConfig.envName, link(role.grpcServices)))
            }
        }
        if let dev, let node {
            var locals: [LocalCRM] = []
            for envName in dev.envs {
                let crm = try LocalCRM(
                    options: .init(envName: envName, dataDir: dev.memory ? nil : dev.dataDir, functionURLs: dev.functionURLs,
                                   odgmService: "\(dev.host):\(dev.gatewayPort)",
                                   mockAvailability: container.env.string("OPRC_MOCK_CLUSTER_AVAILABILITY").flatMap(Double.init)),
                    host: ODGMCollectionHost(node: node), storage: container.storage, logger: logger)
                locals.append(crm)
                crms.append((envName, link(LocalRuntimeService.grpcServices(for: crm))))
            }
            services.append(LocalRuntimeService(crms: locals))
        }
        if let pmConfig = configs.pm {
            for warning in pmConfig.warnings { logger.warning("\(warning)") }
            let role = try await PMRole(config: pmConfig, container: container, inProcessCRMs: crms)
            let router = Router()
            ProbeRoutes.register(on: router, container: container, plainHealth: false)
            role.register(on: router)
            services += role.services
            servers.append(RoleServer(name: "pm", configuration: serverConfiguration(host: pmConfig.host, port: pmConfig.port, maxMessageBytes: pmConfig.maxBodyBytes),
                                      services: [], router: router, logger: logger))
            pm = role
        }
    }

    /// The router role. Roles of the same process reach it in-process (grpc-swift's in-process transport): ODGM
    /// publishes change events and the gateway subscribes without a hop. `oaas dev` always runs it, with a listener
    /// only when `--router-port` is given (control-plane §13).
    private mutating func buildRouter() async throws {
        guard let routerConfig = configs.router else { return }
        let role = try RouterRole(config: routerConfig, container: container)
        services += role.services
        if dev == nil || dev?.routerPort != nil {
            servers.append(RoleServer(name: "router", configuration: serverConfiguration(host: host, port: routerConfig.port),
                                      services: role.grpcServices + [HealthService(container: container)],
                                      router: probeRouter(), logger: logger))
        }
        let transport = InProcessTransport()
        let client = GRPCClient(transport: transport.client)
        services.append(InProcessServer(server: GRPCServer(transport: transport.server, services: role.grpcServices)))
        services.append(InProcessClient(client: client))
        await container.register((any RouterFeed).self, GRPCRouterFeed(client: client))
        routerClient = client
        let publisher = RouterEventPublisher(client: client, owned: false, logger: logger)
        services.append(publisher)
        await container.register((any ChangeEventPublisher).self, publisher)
    }

    private mutating func buildODGM() async throws -> ODGMNode? {
        guard let odgmConfig = configs.odgm else { return nil }
        for warning in odgmConfig.warnings { logger.warning("\(warning)") }
        // Change events go to the router: the one in this process, else OPRC_ROUTER_URL (spec §6.5).
        var publisher: any ChangeEventPublisher = DiscardingChangeEventPublisher()
        if let local = await container.resolve((any ChangeEventPublisher).self) {
            publisher = local
        } else if let routerURL = odgmConfig.routerURL {
            let remote = try RouterEventPublisher(routerURL: routerURL, logger: logger)
            services.append(remote)
            publisher = remote
        }
        let odgmNode = try ODGMNode(config: odgmConfig, storage: container.storage, logger: logger, publisher: publisher)
        try odgmNode.start()
        if dev != nil { try odgmNode.loadStoredCollections() }
        let objects = ObjectService(node: odgmNode, autoCreate: dev != nil, logger: logger)
        await container.register((any ObjectStore).self, objects)
        await container.register((any CollectionHost).self, ODGMCollectionHost(node: odgmNode))
        // Function runtimes are called through one pool; it stops after the servers have drained.
        let runtimes = RuntimeClientPool(logger: logger)
        services.append(runtimes)
        // `wasm://` routes run in-process; their host data calls go to this node's store.
        let wasm = WasmRunner(objects: objects, settings: WasmRunnerSettings(maxOutputBytes: odgmConfig.maxMessageBytes), logger: logger)
        // Modules load when a collection is served (start-up, deploy, update), not on the first call (spec §9.6).
        odgmNode.observeCollections { wasm.preloadInBackground($0) }
        let invoker = FunctionInvoker(node: odgmNode, pool: runtimes,
                                      settings: InvocationSettings(invokeTimeout: odgmConfig.invokeTimeout), wasm: wasm,
                                      observer: FunctionTriggers(node: odgmNode, logger: logger), logger: logger)
        await container.register((any Invoker).self, invoker)
        // Submitted calls run through the same invoker, from records kept with the partition's data.
        let asyncCalls = AsyncInvocations(node: odgmNode, invoker: invoker, logger: logger)
        await container.register((any AsyncInvoker).self, asyncCalls)
        services += asyncCalls.services
        // Trigger deliveries go out through the same invoker, from the outboxes kept with the data.
        services.append(TriggerDispatcher(node: odgmNode, invoker: invoker, logger: logger))
        await container.addReadinessCheck("odgm") { odgmNode.isOpen ? nil : "odgm storage is closed" }
        if let routerURL = odgmConfig.routerURL, dev == nil {
            // Announce this node's shards to the router and keep the lease (spec §7.1, §9.1).
            let address = odgmConfig.nodeAddress ?? ODGMRouterLink.defaultAddress(port: odgmConfig.httpPort)
            let capabilities = try await objects.capabilities(context: CallContext())
            let link = try ODGMRouterLink(node: odgmNode, routerURL: routerURL, address: address, capabilities: capabilities, logger: logger)
            services.append(link)
            await container.addReadinessCheck("router") { link.isRegistered ? nil : "not registered with the router" }
        } else if let dev, let routerClient {
            // `oaas dev`: the in-process router learns this node's shards too (spec §9.7: auto-created collections'
            // routes are registered like any others); the gateway listener is where clients reach ODGM.
            let capabilities = try await objects.capabilities(context: CallContext())
            services.append(ODGMRouterLink(node: odgmNode, client: routerClient, address: "http://\(dev.host):\(dev.gatewayPort)",
                                           capabilities: capabilities, logger: logger))
        }
        if dev == nil {
            // A standalone ODGM serves its own port; under `oaas dev` the gateway port serves it.
            var grpc: [any RegistrableRPCService] = [DataServiceAdapter(store: objects), FunctionServiceAdapter(invoker: invoker)]
            grpc.append(AsyncInvocationAdapter(invoker: asyncCalls))
            servers.append(RoleServer(
                name: "odgm",
                configuration: serverConfiguration(host: host, port: odgmConfig.httpPort, maxMessageBytes: odgmConfig.maxMessageBytes),
                services: grpc + [HealthService(container: container)],
                interceptors: [MetricsInterceptor(prefix: "odgm_grpc")],
                router: probeRouter(),
                logger: logger
            ))
        }
        return odgmNode
    }

    private mutating func buildGateway() async throws {
        guard let gatewayConfig = configs.gateway else { return }
        // With a router (outside `oaas dev`), every call goes to the node the watched route table names.
        if let routerURL = gatewayConfig.routerURL, dev == nil {
            try await buildRoutedGateway(gatewayConfig, routerURL: routerURL)
            return
        }
        // In-process roles first; else one connection to DEFAULT_ODGM_URL shared by all three.
        let localStore = await container.resolve((any ObjectStore).self)
        let localInvoker = await container.resolve((any Invoker).self)
        let localAsync = await container.resolve((any AsyncInvoker).self)
        var remote: RemoteClient?
        if let url = gatewayConfig.defaultODGMURL, localStore == nil || localInvoker == nil || localAsync == nil {
            let client = try RemoteClient(url: url, variable: "DEFAULT_ODGM_URL")
            services.append(client)
            remote = client
        }
        let upstream: any ObjectStore
        if let localStore {
            upstream = localStore
        } else if let remote {
            upstream = RemoteObjectStore(client: remote.client)
        } else {
            upstream = UnroutedStore()
            await container.addReadinessCheck("gateway") { "no route table, DEFAULT_ODGM_URL or in-process ODGM" }
        }
        let invokerUpstream: any Invoker = localInvoker ?? remote.map { RemoteInvoker(client: $0.client) } ?? UnroutedInvoker()
        // Without an in-process or remote AsyncInvocation, the async routes answer 503.
        let asyncUpstream: (any AsyncInvoker)? = localAsync ?? remote.map { RemoteAsyncInvoker(client: $0.client) }
        await addGatewayServer(gatewayConfig, upstream: upstream, invoker: invokerUpstream, asyncInvoker: asyncUpstream,
                               feed: container.resolve((any RouterFeed).self))
    }

    /// The gateway of a cluster: a `WatchRoutes` stream to the router and one pooled client per ODGM address.
    private mutating func buildRoutedGateway(_ gatewayConfig: GatewayConfig, routerURL: String) async throws {
        let watcher = try RouteWatcher(routerURL: routerURL, logger: logger)
        let fallback = gatewayConfig.defaultODGMURL
        let pool = ODGMClientPool(tables: { watcher.updates() }, keep: Set([fallback].compactMap { $0 }), logger: logger)
        services += [watcher, pool]
        if fallback == nil {
            await container.addReadinessCheck("gateway") { watcher.latest == nil ? "no route table from the router yet" : nil }
        }
        // Subscriptions (WebSocket routes, proxied Subscribe) and GetRoutes go to the router over one more connection.
        var feed = await container.resolve((any RouterFeed).self)
        if feed == nil {
            let connection = try RouterConnection(routerURL: routerURL, logger: logger)
            services.append(connection)
            feed = connection.feed
        }
        addGatewayServer(
            gatewayConfig,
            upstream: RoutingObjectStore(routes: watcher, nodes: pool, fallback: fallback, config: gatewayConfig),
            invoker: RoutingInvoker(routes: watcher, nodes: pool, fallback: fallback, config: gatewayConfig),
            asyncInvoker: RoutingAsyncInvoker(routes: watcher, nodes: pool, fallback: fallback, config: gatewayConfig),
            feed: feed)
    }

    private mutating func addGatewayServer(_ gatewayConfig: GatewayConfig, upstream: any ObjectStore, invoker invokerUpstream: any Invoker,
                                           asyncInvoker asyncUpstream: (any AsyncInvoker)?, feed: (any RouterFeed)?) {
        let store = GatewayObjectStore(upstream: upstream, config: gatewayConfig)
        let invoker = GatewayInvoker(upstream: invokerUpstream, config: gatewayConfig)
        let asyncInvoker = asyncUpstream.map { GatewayAsyncInvoker(upstream: $0, config: gatewayConfig) }
        let router = probeRouter()
        GatewayRoutes(store: store, config: gatewayConfig, logger: logger, invoker: invoker, asyncInvoker: asyncInvoker).register(on: router)
        var grpc: [any RegistrableRPCService] = [DataServiceAdapter(store: store), FunctionServiceAdapter(invoker: invoker)]
        if let asyncInvoker { grpc.append(AsyncInvocationAdapter(invoker: asyncInvoker)) }
        if let feed { grpc.append(RouterProxyService(feed: feed)) }
        var http1: @Sendable (@escaping HTTPChannelHandler.Responder) -> any HTTPChannelHandler = { HTTP1Channel(responder: $0) }
        if gatewayConfig.webSocketEnabled {
            if let feed {
                let webSocket = GatewayWebSocketRoutes(feed: feed, config: gatewayConfig)
                http1 = { webSocket.channel(responder: $0) }
            } else {
                logger.warning("GATEWAY_WS_ENABLED is set but no router is configured (OPRC_ROUTER_URL); the WebSocket routes are off")
            }
        }
        servers.append(RoleServer(
            name: "gateway",
            configuration: serverConfiguration(host: host, port: gatewayConfig.httpPort, maxMessageBytes: gatewayConfig.maxPayloadBytes),
            services: grpc + [HealthService(container: container)],
            interceptors: [MetricsInterceptor(prefix: "gateway_grpc")],
            router: router,
            http1: http1,
            logger: logger
        ))
    }

    private func probeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        ProbeRoutes.register(on: router, container: container)
        return router
    }

    /// A CRM living in this process, reached by PM through grpc-swift's in-process transport: the same client code
    /// as for a remote CRM, without a network hop.
    private mutating func link(_ grpcServices: [any RegistrableRPCService]) -> any CRMClient {
        let transport = InProcessTransport()
        let server = GRPCServer(transport: transport.server, services: grpcServices)
        let client = GRPCClient(transport: transport.client)
        services.append(InProcessServer(server: server))
        services.append(InProcessClient(client: client))
        return GRPCCRMClient(client: client)
    }
}

struct InProcessServer: Service {
    let server: GRPCServer<InProcessTransport.Server>

    func run() async throws {
        try await server.serve(drainingWithin: .seconds(10))
    }
}

struct InProcessClient: Service {
    let client: GRPCClient<InProcessTransport.Client>

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            client.beginGracefulShutdown()
        }
    }
}

/// The invoker of a gateway that has nowhere to send calls: every call is UNAVAILABLE.
struct UnroutedInvoker: Invoker {
    private var error: OaaSError { OaaSError(.unavailable, "no ODGM route: set DEFAULT_ODGM_URL or OPRC_ROUTER_URL") }
    func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse { throw error }
    func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse { throw error }
}
