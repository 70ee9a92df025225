import Foundation
import GRPCCore
import OaaSProto
import Testing

/// A real cluster on loopback: `oaas serve --role router`, two ODGM processes that each host half of the partitions
/// of one class, and a gateway that routes by the table it watches (data-plane spec §7, §8.1, §4.7).
@Suite(.serialized) struct RouterClusterTests {
    /// The four processes of one test; each is killed when the cluster is released.
    struct Cluster {
        let router: OaasProcess
        let nodes: [OaasProcess]
        let gateway: OaasProcess
        var routerURL: String { "http://127.0.0.1:\(router.port)" }
    }

    static let leaseMs = 1500

    /// Partition p of `users` lives on node `p % 2 + 1` (default placement over members 1,2; spec §9.2).
    func startCluster(gatewayEnv: [String: String] = [:]) async throws -> Cluster {
        let routerPort = freePort()
        let router = try await OaasProcess(["serve", "--role", "router"], port: routerPort, environment: [
            "OPRC_ROUTER_PORT": String(routerPort), "OPRC_ROUTER_LEASE_TTL_MS": String(Self.leaseMs),
            "OPRC_ROUTER_ENV": "test-env",
        ])
        let routerURL = "http://127.0.0.1:\(routerPort)"
        var nodes: [OaasProcess] = []
        for id in 1...2 {
            let port = freePort()
            let dir = temporaryDirectory()
            nodes.append(try await OaasProcess(["serve", "--role", "odgm"], port: port, environment: [
                "ODGM_HTTP_PORT": String(port), "ODGM_DATA_DIR": dir, "ODGM_NODE_ID": String(id), "ODGM_MEMBERS": "1,2",
                "ODGM_NODE_ADDR": "http://127.0.0.1:\(port)", "ODGM_COLLECTION": collectionJSON("users", partitions: 4),
                "OPRC_ROUTER_URL": routerURL,
            ]))
        }
        let gatewayPort = freePort()
        var env = ["HTTP_PORT": String(gatewayPort), "OPRC_ROUTER_URL": routerURL]
        for (key, value) in gatewayEnv { env[key] = value }
        let gateway = try await OaasProcess(["serve", "--role", "gateway"], port: gatewayPort, environment: env)
        let cluster = Cluster(router: router, nodes: nodes, gateway: gateway)
        try await waitFor("every partition has a ready shard") {
            let table = try await routes(cluster)
            let ready = table.collections.first?.partitions.filter { $0.shards.contains(where: \.ready) }.count ?? 0
            return ready == 4
        }
        try await waitFor("the gateway is ready") { (try? await gateway.http("GET", "/readyz").0) == 200 }
        return cluster
    }

    func routes(_ cluster: Cluster) async throws -> Oaas_Router_RouteTable {
        try await cluster.router.withClient { grpc in
            try await Oaas_Router_RouterService.Client(wrapping: grpc).getRoutes(Oaas_Router_GetRoutesRequest())
        }
    }

    func waitFor(_ what: String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("timed out waiting until \(what)")
    }

    func objectRequest(_ partition: UInt32) -> Oprc_SingleObjectRequest {
        var request = Oprc_SingleObjectRequest()
        request.clsID = "users"
        request.partitionID = partition
        request.objectID = 100 + UInt64(partition)
        return request
    }

    @Test func writesLandOnTheOwnerAndADeadNodeLosesItsRoutes() async throws {
        let cluster = try await startCluster()
        // A write to every partition through the gateway.
        try await cluster.gateway.withClient { grpc in
            let data = Oprc_DataService.Client(wrapping: grpc)
            for partition in UInt32(0)..<4 {
                var set = Oprc_SetObjectRequest()
                set.clsID = "users"
                set.partitionID = Int32(partition)
                set.objectID = 100 + UInt64(partition)
                set.object.entriesStr = ["owner": valData("p\(partition)")]
                _ = try await data.set(set)
            }
        }
        // Each object is on the node that owns its partition, and only there.
        for (index, node) in cluster.nodes.enumerated() {
            try await node.withClient { grpc in
                let data = Oprc_DataService.Client(wrapping: grpc)
                for partition in UInt32(0)..<4 {
                    if Int(partition) % 2 == index {
                        let object = try await data.get(objectRequest(partition))
                        #expect(object.obj.entriesStr["owner"]?.data == Data("p\(partition)".utf8))
                    } else {
                        #expect(await rpcCode { _ = try await data.get(objectRequest(partition)) } == .unavailable)
                    }
                }
            }
        }

        // `oaas routes` shows both nodes.
        let (code, out, err) = try await runCLI(["routes", "--router-url", cluster.routerURL])
        #expect(code == 0, "\(err)")
        for node in cluster.nodes { #expect(out.contains("http://127.0.0.1:\(node.port)")) }
        #expect(out.split(separator: "\n").count == 5)

        // SIGKILL node 2: its routes go within the lease, its partitions answer UNAVAILABLE, the others still work.
        cluster.nodes[1].signal(SIGKILL)
        let killedAt = ContinuousClock.now
        try await waitFor("node 2's routes are gone", timeout: .milliseconds(Self.leaseMs * 3)) {
            let table = try await routes(cluster)
            let served = table.collections.first?.partitions.filter { !$0.shards.isEmpty }.map(\.partitionID) ?? []
            return served == [0, 2]
        }
        #expect(ContinuousClock.now - killedAt < .milliseconds(Self.leaseMs * 3))
        try await waitFor("the gateway saw the new table") {
            await rpcCode {
                try await cluster.gateway.withClient { grpc in _ = try await Oprc_DataService.Client(wrapping: grpc).get(objectRequest(1)) }
            } == .unavailable
        }
        try await cluster.gateway.withClient { grpc in
            let data = Oprc_DataService.Client(wrapping: grpc)
            for partition in UInt32(0)..<4 {
                if partition % 2 == 1 {
                    #expect(await rpcCode { _ = try await data.get(objectRequest(partition)) } == .unavailable)
                } else {
                    let object = try await data.get(objectRequest(partition))
                    #expect(object.obj.entriesStr["owner"]?.data == Data("p\(partition)".utf8))
                }
            }
        }
        let (status, _, body) = try await cluster.gateway.http("GET", "/api/class/users/1/objects/101")
        #expect(status == 503, "\(String(decoding: body, as: UTF8.self))")

        // GATEWAY_WS_ENABLED is off: the WebSocket routes do not exist.
        try await withWebSocket(port: cluster.gateway.port, path: "/api/class/users/ws") { socket, upgrade in
            #expect(socket == nil && upgrade.contains(" 404"), "\(upgrade)")
        }
    }

    @Test func classSocketAndWatchSeeWritesOfEveryPartition() async throws {
        let cluster = try await startCluster(gatewayEnv: ["GATEWAY_WS_ENABLED": "true"])
        let watch = try await withWebSocket(port: cluster.gateway.port, path: "/api/class/users/ws") { socket, status in
            let client = try #require(socket, "upgrade refused: \(status)")
            let watch = try await OaasProcess(["object", "watch", "-c", "users", "-g", "http://127.0.0.1:\(cluster.gateway.port)"],
                                              port: 0, waitReady: false)
            // Both subscriptions are open once the router counts them.
            try await waitFor("the router has both subscribers") {
                let (_, _, body) = try await cluster.router.http("GET", "/metrics")
                let line = String(decoding: body, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("router_subscribers ") }
                return line.flatMap { Double($0.split(separator: " ").last ?? "") } == 2
            }
            try await cluster.gateway.withClient { grpc in
                let data = Oprc_DataService.Client(wrapping: grpc)
                for partition in UInt32(0)..<2 {
                    var set = Oprc_SetKeyRequest()
                    set.clsID = "users"
                    set.partitionID = Int32(partition)
                    set.objectIDStr = "user-\(partition)"
                    set.keyStr = "name"
                    set.value = valData("n\(partition)")
                    _ = try await data.setValue(set)
                }
            }
            var frames: [[String: Any]] = []
            while frames.count < 2, let text = try await client.nextText() {
                frames.append(try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]))
            }
            #expect(Set(frames.compactMap { $0["object_id"] as? String }) == ["user-0", "user-1"])
            #expect(Set(frames.compactMap { $0["partition_id"] as? Int }) == [0, 1])
            let changes = frames.compactMap { ($0["changes"] as? [[String: Any]])?.first }
            #expect(changes.allSatisfy { $0["key"] as? String == "name" && $0["action"] as? String == "create" })
            return watch
        }
        try await waitFor("watch printed both events") { watch.log.contains("0/user-0 v1 create name") && watch.log.contains("1/user-1 v1 create name") }
        watch.signal(SIGTERM)

        // A plain GET (no upgrade) of a WebSocket path is not a REST route.
        let (plain, _, _) = try await cluster.gateway.http("GET", "/api/class/users/ws")
        #expect(plain == 404)
    }
}
