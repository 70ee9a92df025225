import CRM
import Foundation
import GRPCCore
import GRPCServing
import GRPCInProcessTransport
import Gateway
import Hummingbird
import LocalRuntime
import Logging
import NetServer
import ODGM
import OaaSCore
import OaaSProto
import PM
import Router
import ServiceLifecycle

/// Every role's configuration, read once from the environment (with `oaas dev`'s flags applied), plus the
/// cross-role checks (listener clashes).
struct RoleConfigs {
    var odgm: ODGMConfig?
    var gateway: GatewayConfig?
    var pm: PMConfig?
    var crm: CRMConfig?
    var router: RouterConfig?

    init(roles: [Role], env: EnvReader, dev: Launcher.DevOptions?) {
        odgm = roles.contains(.odgm) ? ODGMConfig(env: env) : nil
        gateway = roles.contains(.gateway) ? GatewayConfig(env: env) : nil
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

    init(container: ServiceContainer, configs: RoleConfigs, host: String, dev: Launcher.DevOptions?, logger: Logger) {
        self.container = container
        self.configs = configs
        self.host = host
        self.dev = dev
        self.logger = logger
    }

    mutating func build() async throws {
        let node = try await buildODGM()
        try await buildGateway()
        if let routerConfig = configs.router {
            let role = try RouterRole(config: routerConfig, container: container)
            services += role.services
            servers.append(RoleServer(name: "router", configuration: .init(host: host, port: routerConfig.port),
                                      services: role.grpcServices + [HealthService(container: container)],
                                      router: probeRouter(), logger: logger))
        }
        var crms: [(env: String, client: any CRMClient)] = []
        if let crmConfig = configs.crm {
            let role = try await CRMRole(config: crmConfig, container: container, kube: nil)
            services += role.services
            let grpc = role.grpcServices + [HealthService(container: container)]
            servers.append(RoleServer(name: "crm", configuration: .init(host: host, port: crmConfig.httpPort), services: grpc,
                                      router: probeRouter(), logger: logger))
            if crmConfig.grpcPort != crmConfig.httpPort {
                servers.append(RoleServer(name: "crm-grpc", configuration: .init(host: host, port: crmConfig.grpcPort), services: grpc,
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
            servers.append(RoleServer(name: "pm", configuration: .init(host: pmConfig.host, port: pmConfig.port, maxMessageBytes: pmConfig.maxBodyBytes),
                                      services: [], router: router, logger: logger))
            pm = role
        }
    }

    private mutating func buildODGM() async throws -> ODGMNode? {
        guard let odgmConfig = configs.odgm else { return nil }
        for warning in odgmConfig.warnings { logger.warning("\(warning)") }
        let odgmNode = try ODGMNode(config: odgmConfig, storage: container.storage, logger: logger)
        try odgmNode.start()
        if dev != nil { try odgmNode.loadStoredCollections() }
        let objects = ObjectService(node: odgmNode, autoCreate: dev != nil, logger: logger)
        await container.register((any ObjectStore).self, objects)
        await container.register((any CollectionHost).self, ODGMCollectionHost(node: odgmNode))
        // Function runtimes are called through one pool; it stops after the servers have drained.
        let runtimes = RuntimeClientPool(logger: logger)
        services.append(runtimes)
        let invoker = FunctionInvoker(node: odgmNode, pool: runtimes,
                                      settings: InvocationSettings(invokeTimeout: odgmConfig.invokeTimeout), logger: logger)
        await container.register((any Invoker).self, invoker)
        // Submitted calls run through the same invoker, from records kept with the partition's data.
        let asyncCalls = AsyncInvocations(node: odgmNode, invoker: invoker, logger: logger)
        await container.register((any AsyncInvoker).self, asyncCalls)
        services += asyncCalls.services
        await container.addReadinessCheck("odgm") { odgmNode.isOpen ? nil : "odgm storage is closed" }
        if dev == nil {
            // A standalone ODGM serves its own port; under `oaas dev` the gateway port serves it.
            var grpc: [any RegistrableRPCService] = [DataServiceAdapter(store: objects), FunctionServiceAdapter(invoker: invoker)]
            grpc.append(AsyncInvocationAdapter(invoker: asyncCalls))
            servers.append(RoleServer(
                name: "odgm",
                configuration: .init(host: host, port: odgmConfig.httpPort, maxMessageBytes: odgmConfig.maxMessageBytes),
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
        let store = GatewayObjectStore(upstream: upstream, config: gatewayConfig)
        let invoker = GatewayInvoker(upstream: invokerUpstream, config: gatewayConfig)
        let asyncInvoker = asyncUpstream.map { GatewayAsyncInvoker(upstream: $0, config: gatewayConfig) }
        let router = probeRouter()
        GatewayRoutes(store: store, config: gatewayConfig, logger: logger, invoker: invoker, asyncInvoker: asyncInvoker).register(on: router)
        var grpc: [any RegistrableRPCService] = [DataServiceAdapter(store: store), FunctionServiceAdapter(invoker: invoker)]
        if let asyncInvoker { grpc.append(AsyncInvocationAdapter(invoker: asyncInvoker)) }
        servers.append(RoleServer(
            name: "gateway",
            configuration: .init(host: host, port: gatewayConfig.httpPort, maxMessageBytes: gatewayConfig.maxPayloadBytes),
            services: grpc + [HealthService(container: container)],
            interceptors: [MetricsInterceptor(prefix: "gateway_grpc")],
            router: router,
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
