import ArgumentParser
import Foundation
import GRPCCore
import OaaSProto

/// `oaas routes` (data-plane spec §12.2, §7.1 GetRoutes): the router's live route table, from the router named by
/// `--router-url` or the context's `router_url`, else through the gateway.
struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes", abstract: "Show the route table: which ODGM shard serves which class partition.",
        aliases: ["liveliness", "topology"])

    @OptionGroup var global: GlobalOptions

    @Option(name: [.customShort("c"), .customLong("cls-id")], help: ArgumentHelp("Only this class.", valueName: "CLS"))
    var clsID: String?

    @Option(name: .customLong("router-url"),
            help: ArgumentHelp("Router gRPC URL (default: the context's router_url, else the gateway).", valueName: "URL"))
    var routerURL: String?

    static let gatewayHint = "give --router-url or set router_url in the context (oaas context set --router URL)"

    var request: Oaas_Router_GetRoutesRequest {
        var request = Oaas_Router_GetRoutesRequest()
        if let clsID, !clsID.isEmpty { request.clsID = clsID }
        return request
    }

    func run() async throws {
        let code = await run(io: StandardOutput(), environment: ProcessInfo.processInfo.environment)
        if code != 0 { throw ExitCode(code) }
    }

    /// Runs the command with its output and environment given (tests run it in process).
    func run(io: any CommandOutput, environment: [String: String]) async -> Int32 {
        do {
            let context = try global.resolveContext(store: ConfigStore(path: ConfigStore.defaultPath(environment: environment)))
            let router = routerURL ?? context.settings.routerURL
            let endpoint: GatewayEndpoint
            if let router {
                do {
                    endpoint = try GatewayEndpoint.parse(router)
                } catch {
                    if routerURL != nil { throw ValidationError("invalid --router-url '\(router)'") }
                    throw CLIFailure(code: "INVALID_ARGUMENT", message: "invalid router_url '\(router)' in context '\(context.name)'")
                }
            } else {
                endpoint = try global.gateway(in: context)
            }
            let table = try await Self.fetch(endpoint, request: request, viaGateway: router == nil)
            io.out(String(decoding: try RoutesRender.render(table, format: global.format()), as: UTF8.self))
            return 0
        } catch {
            return Terminal.report(error, writeError: io.err).rawValue
        }
    }

    /// One GetRoutes call; failures become the CLI's error lines (router vs. gateway wording and hints).
    static func fetch(_ endpoint: GatewayEndpoint, request: Oaas_Router_GetRoutesRequest, viaGateway: Bool) async throws -> Oaas_Router_RouteTable {
        var options = CallOptions.defaults
        options.timeout = GatewayConnection.callTimeout
        options.waitForReady = false
        do {
            return try await GatewayConnection.withClient(endpoint) { grpc in
                try await Oaas_Router_RouterService.Client(wrapping: grpc).getRoutes(request, options: options)
            }
        } catch let error as RPCError where error.code == .unimplemented && viaGateway {
            throw CLIFailure(code: "UNIMPLEMENTED", message: error.message.isEmpty ? "the gateway does not serve GetRoutes" : error.message,
                             hint: gatewayHint)
        } catch var failure as CLIFailure where !viaGateway && failure.code == "UNAVAILABLE" {
            failure.message = failure.message.replacingOccurrences(of: "the gateway", with: "the router")
            failure.hint = "is the router running? Give its URL with --router-url or 'oaas context set --router URL'"
            throw failure
        }
    }
}

/// Output of `oaas routes`: one table row per shard; json/yaml carry the route table's fields.
enum RoutesRender {
    static func render(_ table: Oaas_Router_RouteTable, format: OutputFormat) throws -> Data {
        switch format {
        case .table:
            var rows: [[String]] = []
            for collection in table.collections {
                for partition in collection.partitions {
                    for shard in partition.shards {
                        rows.append([collection.clsID, String(partition.partitionID), String(shard.shardID), String(shard.odgmNodeID),
                                     shard.address, String(shard.primary), String(shard.ready), shard.env])
                    }
                }
            }
            return line(Render.table(header: ["cls", "pid", "shard", "node", "address", "primary", "ready", "env"], rows: rows))
        case .json, .yaml:
            return line(try structured(table).text(format))
        }
    }

    static func structured(_ table: Oaas_Router_RouteTable) -> StructuredValue {
        .object([
            ("revision", .uint(table.revision)),
            ("generated_at_ms", .uint(table.generatedAtMs)),
            ("collections", .array(table.collections.map(collection))),
        ])
    }

    private static func collection(_ route: Oaas_Router_CollectionRoute) -> StructuredValue {
        let functions: [(String, StructuredValue)] = route.functions.keys.sorted().compactMap { key in
            guard let fn = route.functions[key] else { return nil }
            return (key, .object([("url", .string(fn.url)), ("stateless", .bool(fn.stateless)), ("standby", .bool(fn.standby))]))
        }
        let options: [(String, StructuredValue)] = route.options.keys.sorted().map { ($0, .string(route.options[$0] ?? "")) }
        return .object([
            ("cls_id", .string(route.clsID)),
            ("partition_count", .uint(UInt64(route.partitionCount))),
            ("replica_count", .uint(UInt64(route.replicaCount))),
            ("shard_type", .string(route.shardType)),
            ("env", .string(route.env)),
            ("options", .object(options)),
            ("functions", .object(functions)),
            ("partitions", .array(route.partitions.map { partition in
                .object([
                    ("partition_id", .uint(UInt64(partition.partitionID))),
                    ("shards", .array(partition.shards.map { shard in
                        .object([
                            ("shard_id", .uint(shard.shardID)),
                            ("odgm_node_id", .uint(shard.odgmNodeID)),
                            ("address", .string(shard.address)),
                            ("primary", .bool(shard.primary)),
                            ("ready", .bool(shard.ready)),
                            ("env", .string(shard.env)),
                        ])
                    })),
                ])
            })),
        ])
    }
}

extension RoutesRender {
    private static func line(_ text: String) -> Data {
        Data(text.utf8)
    }
}
