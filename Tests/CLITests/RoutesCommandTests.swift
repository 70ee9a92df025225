import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSProto
import Synchronization
import Testing
@testable import OaaSCLI

/// A router (or a gateway that does not proxy it) on loopback that answers GetRoutes with a fixed table and records
/// the requests.
struct FakeRouterService: Oaas_Router_RouterService.SimpleServiceProtocol {
    final class Requests: Sendable {
        let list = Mutex<[Oaas_Router_GetRoutesRequest]>([])
        func withLock<T: Sendable>(_ body: (inout [Oaas_Router_GetRoutesRequest]) -> T) -> T { list.withLock { body(&$0) } }
    }

    let requests: Requests
    let unimplemented: Bool

    static func table() -> Oaas_Router_RouteTable {
        func shard(_ id: UInt64, node: UInt64, primary: Bool, ready: Bool) -> Oaas_Router_ShardRoute {
            var shard = Oaas_Router_ShardRoute()
            shard.shardID = id
            shard.odgmNodeID = node
            shard.address = "http://odgm-\(node):8080"
            shard.primary = primary
            shard.ready = ready
            shard.env = "oaas-1"
            return shard
        }
        var users = Oaas_Router_CollectionRoute()
        users.clsID = "users"
        users.partitionCount = 2
        users.shardType = "none"
        var p0 = Oaas_Router_PartitionRoute()
        p0.shards = [shard(1, node: 1, primary: true, ready: true)]
        var p1 = Oaas_Router_PartitionRoute()
        p1.partitionID = 1
        p1.shards = [shard(2, node: 2, primary: true, ready: false)]
        users.partitions = [p0, p1]
        var orders = Oaas_Router_CollectionRoute()
        orders.clsID = "orders"
        orders.partitionCount = 1
        orders.shardType = "mst"
        var fn = Oprc_FuncInvokeRoute()
        fn.url = "http://echo:80"
        orders.functions = ["echo": fn]
        var o0 = Oaas_Router_PartitionRoute()
        o0.shards = [shard(1, node: 1, primary: true, ready: true), shard(2, node: 2, primary: false, ready: true)]
        orders.partitions = [o0]
        var table = Oaas_Router_RouteTable()
        table.revision = 9
        table.collections = [orders, users]
        return table
    }

    func getRoutes(request: Oaas_Router_GetRoutesRequest, context: ServerContext) async throws -> Oaas_Router_RouteTable {
        if unimplemented { throw RPCError(code: .unimplemented, message: "Method not found: oaas.router.RouterService/GetRoutes") }
        requests.withLock { $0.append(request) }
        var table = Self.table()
        if request.hasClsID { table.collections = table.collections.filter { $0.clsID == request.clsID } }
        return table
    }

    func register(request: Oaas_Router_RegisterRequest, context: ServerContext) async throws -> Oaas_Router_RegisterResponse { throw unsupported }
    func heartbeat(request: Oaas_Router_HeartbeatRequest, context: ServerContext) async throws -> Oaas_Router_HeartbeatResponse { throw unsupported }
    func deregister(request: Oaas_Router_DeregisterRequest, context: ServerContext) async throws -> Oaas_Router_Ack { throw unsupported }
    func watchRoutes(request: Oaas_Router_WatchRoutesRequest, response: RPCWriter<Oaas_Router_RouteTable>, context: ServerContext) async throws { throw unsupported }
    func publish(request: Oaas_Router_PublishRequest, context: ServerContext) async throws -> Oaas_Router_PublishResponse { throw unsupported }
    func subscribe(request: Oaas_Router_SubscribeRequest, response: RPCWriter<Oaas_Router_EventDelivery>, context: ServerContext) async throws { throw unsupported }
    func forward(request: Oaas_Router_ForwardRequest, context: ServerContext) async throws -> Oaas_Router_ForwardResponse { throw unsupported }

    private var unsupported: RPCError { RPCError(code: .unimplemented, message: "not in this fake") }
}

private struct RoutesRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oaas", subcommands: ClientCommands.all)
}

/// Runs `oaas <arguments>` (a `routes` command) in process.
private func oaasRoutes(_ arguments: [String], config: String? = nil) async throws -> CLIRun {
    let parsed: any ParsableCommand
    do {
        parsed = try RoutesRoot.parseAsRoot(arguments)
    } catch {
        return CLIRun(code: ClientCommands.exitCode(for: error), out: "", err: RoutesRoot.fullMessage(for: error))
    }
    let command = try #require(parsed as? RoutesCommand)
    var path = missingConfigPath
    var directory: URL?
    if let config {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("oaas-routes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("config.yml").path
        try Data(config.utf8).write(to: URL(fileURLWithPath: path))
        directory = dir
    }
    defer { if let directory { try? FileManager.default.removeItem(at: directory) } }
    let output = CapturedOutput()
    let code = await command.run(io: output, environment: ["OAAS_CONFIG_PATH": path])
    return CLIRun(code: code, out: output.text.out, err: output.text.err)
}

/// Serves the fake on an ephemeral loopback port for `body`.
private func withFakeRouter(unimplemented: Bool = false,
                            _ body: @Sendable (_ url: String, _ service: FakeRouterService) async throws -> Void) async throws {
    let service = FakeRouterService(requests: .init(), unimplemented: unimplemented)
    let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
    try await withGRPCServer(transport: transport, services: [service]) { _ in
        let port = try #require(try await transport.listeningAddress.ipv4?.port)
        try await body("http://127.0.0.1:\(port)", service)
    }
}

@Suite struct RoutesCommandTests {
    @Test func tableHasOneRowPerShard() async throws {
        try await withFakeRouter { url, _ in
            let run = try await oaasRoutes(["routes", "--router-url", url])
            #expect(run.code == 0, "\(run)")
            #expect(run.out == """
                cls     pid  shard  node  address             primary  ready  env
                orders  0    1      1     http://odgm-1:8080  true     true   oaas-1
                orders  0    2      2     http://odgm-2:8080  false    true   oaas-1
                users   0    1      1     http://odgm-1:8080  true     true   oaas-1
                users   1    2      2     http://odgm-2:8080  true     false  oaas-1

                """)
        }
    }

    @Test func jsonCarriesTheTableAndTheClassFilterIsSent() async throws {
        try await withFakeRouter { url, service in
            let run = try await oaasRoutes(["topology", "-c", "orders", "--router-url", url, "-o", "json"])
            #expect(run.code == 0, "\(run)")
            #expect(service.requests.withLock { $0.last?.clsID } == "orders")
            let json = try #require(JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
            #expect(json["revision"] as? Int == 9)
            let collections = try #require(json["collections"] as? [[String: Any]])
            #expect(collections.count == 1)
            #expect(collections[0]["cls_id"] as? String == "orders" && collections[0]["shard_type"] as? String == "mst")
            let functions = try #require(collections[0]["functions"] as? [String: [String: Any]])
            #expect(functions["echo"]?["url"] as? String == "http://echo:80")
            let partitions = try #require(collections[0]["partitions"] as? [[String: Any]])
            let shards = try #require(partitions.first?["shards"] as? [[String: Any]])
            #expect(shards.map { $0["address"] as? String } == ["http://odgm-1:8080", "http://odgm-2:8080"])
            #expect(shards.map { $0["primary"] as? Bool } == [true, false])
        }
    }

    @Test func theContextRouterURLIsUsedWithoutAFlag() async throws {
        try await withFakeRouter { url, service in
            let config = """
                current_context: default
                contexts:
                  default:
                    gateway_url: http://127.0.0.1:1
                    router_url: \(url)
                """
            let run = try await oaasRoutes(["liveliness"], config: config)
            #expect(run.code == 0, "\(run)")
            #expect(service.requests.withLock { $0.count } == 1)
            #expect(run.rows.count == 5)
        }
    }

    @Test func aGatewayWithoutTheProxyGivesAHint() async throws {
        try await withFakeRouter(unimplemented: true) { url, _ in
            let run = try await oaasRoutes(["routes", "-g", url])
            #expect(run.code == 1)
            #expect(run.err.hasPrefix("error: UNIMPLEMENTED: "), "\(run)")
            #expect(run.err.contains("hint: give --router-url or set router_url in the context (oaas context set --router URL)"))
        }
    }

    @Test func anUnreachableRouterIsUnavailable() async throws {
        let run = try await oaasRoutes(["routes", "--router-url", "http://127.0.0.1:1"])
        #expect(run.code == 1)
        #expect(run.err.hasPrefix("error: UNAVAILABLE: cannot reach the router"), "\(run)")
        #expect(run.err.contains("hint: "))
    }

    @Test func aBadRouterURLIsAUsageError() async throws {
        let run = try await oaasRoutes(["routes", "--router-url", "ftp://x"])
        #expect(run.code == 2, "\(run)")
    }
}
