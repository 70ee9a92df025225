import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Gateway
import Hummingbird
import Logging
import NetServer
import ODGM
import OaaSCore
import OaaSProto
import ServiceLifecycle

/// Builds the roles of one process from a ``ServiceContainer`` and runs them under one
/// `ServiceGroup` until SIGTERM/SIGINT, then drains and closes storage.
struct Launcher {
    struct DevOptions {
        var gatewayPort: Int
        var pmPort: Int
        var host: String
        var dataDir: String
        var memory: Bool
        var envs: [String]
        var configFiles: [String]
        var functionURLs: [String: String]
        /// The router role's port; nil runs no router.
        var routerPort: Int?
    }

    enum Mode {
        case serve([Role])
        case dev(DevOptions)
    }

    let mode: Mode

    func run() async throws {
        let env = EnvReader()
        let roles: [Role]
        let dev: DevOptions?
        switch mode {
        case .serve(let list):
            roles = list
            dev = nil
        case .dev(let options):
            // The router always runs in-process (events, subscriptions); its listener only with --router-port.
            roles = [.odgm, .gateway, .pm, .router]
            dev = options
        }

        // Logging first, so configuration problems are reported in the chosen format.
        let levelVariable = roles == [.odgm] && env.lookup("ODGM_LOG") != nil ? "ODGM_LOG" : "LOG_LEVEL"
        let formatVariable = roles == [.odgm] && env.lookup("ODGM_LOG_FORMAT") != nil ? "ODGM_LOG_FORMAT" : "LOG_FORMAT"
        var level = Logger.Level.info
        if let raw = env.lookup(levelVariable) {
            if let parsed = LogSetup.parseLevel(raw.value) { level = parsed } else { env.report("\(raw.name): '\(raw.value)' is not a log level (trace, debug, info, notice, warning, error, critical)") }
        }
        var format: LogSetup.Format = dev == nil ? .json : .text
        if let raw = env.lookup(formatVariable) {
            if let parsed = LogSetup.parseFormat(raw.value) { format = parsed } else { env.report("\(raw.name): '\(raw.value)' is not json or text") }
        }
        LogSetup.bootstrap(level: level, format: format)
        let logger = Logger(label: "oaas")
        let metrics = MetricsSetup.bootstrap()
        let container = ServiceContainer(logger: logger, env: env, metrics: metrics, devMode: dev != nil)

        let configs = RoleConfigs(roles: roles, env: env, dev: dev)
        do {
            try env.validate()
        } catch {
            for problem in error.problems { FileHandle.standardError.write(Data("oaas: \(problem)\n".utf8)) }
            throw ExitCode(2)
        }

        var plan = LaunchPlan(container: container, configs: configs, host: dev?.host ?? "0.0.0.0", dev: dev, logger: logger)
        do {
            try await plan.build()
        } catch let error as ConfigurationError {
            for problem in error.problems { FileHandle.standardError.write(Data("oaas: \(problem)\n".utf8)) }
            await container.shutdown()
            throw ExitCode(2)
        }

        let servers = plan.servers
        let group = ServiceGroup(configuration: .init(
            services: (plan.services + servers).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        let startup = Task { [plan] in
            for server in servers {
                if let address = try? await server.boundAddress {
                    let line = "\(server.name) listening on \(address.ipAddress ?? plan.host):\(address.port ?? 0)"
                    logger.info("\(line)")
                    if dev != nil { writeLine(line) }
                }
            }
            guard let dev else { return }
            if let pm = plan.pm {
                for file in dev.configFiles {
                    let lines: [String]
                    if let data = FileManager.default.contents(atPath: file) {
                        lines = await pm.applyDocuments(data, name: file)
                    } else {
                        lines = ["\(file): cannot read the file"]
                    }
                    for line in lines { writeLine("-c \(file): \(line)") }
                }
            }
            writeLine("oaas dev ready (data in \(dev.memory ? "memory" : dev.dataDir))")
        }
        defer { startup.cancel() }
        do {
            try await group.run()
        } catch {
            logger.error("stopped: \(error)")
            await container.shutdown()
            throw ExitCode(1)
        }
        await container.shutdown()
        logger.info("stopped")
    }
}

/// A long-lived gRPC client connection to another node, run as a service.
struct RemoteClient: Service {
    let client: GRPCClient<HTTP2ClientTransport.Posix>

    init(url: String, variable: String) throws {
        guard let target = GRPCTarget(url: url) else {
            throw ConfigurationError("\(variable): '\(url)' is not an http://host:port URL")
        }
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.http2.maxFrameSize = 1 << 20
        // An upstream that restarts is usable again within a second, not after gRPC's default two-minute backoff.
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
        let transport = try HTTP2ClientTransport.Posix(
            target: target.resolvable,
            transportSecurity: .plaintext,
            config: config
        )
        client = GRPCClient(transport: transport)
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.runConnections()
        } onGracefulShutdown: {
            client.beginGracefulShutdown()
        }
    }
}

/// `http://host:port`, `host:port` → a resolvable gRPC target.
struct GRPCTarget {
    let host: String
    let port: Int

    init?(url: String) {
        var rest = Substring(url)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.contains("://") { return nil }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
            guard !rest.isEmpty else { return nil }
            self.host = String(rest)
            self.port = 80
            return
        }
        self.host = String(rest[..<colon])
        self.port = port
    }

    var resolvable: any ResolvableTarget {
        .dns(host: host, port: port)
    }
}

/// The upstream of a gateway that has nowhere to send calls: every call is UNAVAILABLE.
struct UnroutedStore: ObjectStore {
    private var error: OaaSError { OaaSError(.unavailable, "no ODGM route: set DEFAULT_ODGM_URL or OPRC_ROUTER_URL") }
    func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse { throw error }
    func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64 { throw error }
    func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse { throw error }
    func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64 { throw error }
    func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse { throw error }
    func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64 { throw error }
    func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64 { throw error }
    func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64 { throw error }
    func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage { throw error }
    func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope] { throw error }
    func stats(context: CallContext) async throws -> Oprc_StatsResponse { throw error }
    func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse { throw error }
}

/// One line to stdout, unbuffered (scripts and tests wait for these lines).
func writeLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
