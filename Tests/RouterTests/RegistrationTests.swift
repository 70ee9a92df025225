import GRPCCore
import OaaSProto
import Testing
@testable import Router

@Suite(.timeLimit(.minutes(1))) struct RegistrationTests {
    @Test func registerBuildsRoutesAndHeartbeatUpdatesShards() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                var request = odgmRegistration(
                    instance: "odgm-1", address: "http://10.0.0.1:8080", nodeID: 1, cls: "shop", partitions: 2,
                    shards: [(0, 1, true, true), (1, 2, true, false)],
                    functions: ["echo": "http://echo:8080"], options: ["invoke_only_primary": "true", "storage_backend": "memory"])
                request.collections[0].shardType = "BASIC"
                let registered = try await client.register(request)
                #expect(!registered.leaseID.isEmpty)
                #expect(registered.leaseTtlMs == 10_000)

                let table = try await client.getRoutes(Oaas_Router_GetRoutesRequest())
                #expect(table.revision == registered.revision)
                let shop = try #require(table.collections.first)
                #expect(table.collections.count == 1)
                #expect(shop.clsID == "shop")
                #expect(shop.partitionCount == 2)
                #expect(shop.shardType == "none")
                #expect(shop.env == "default")
                #expect(shop.options == ["invoke_only_primary": "true"])
                #expect(shop.functions["echo"]?.url == "http://echo:8080")
                #expect(shop.partitions.map(\.partitionID) == [0, 1])
                let replica = try #require(shop.partitions.last?.shards.first)
                #expect(replica.address == "http://10.0.0.1:8080")
                #expect(replica.odgmNodeID == 1)
                #expect(replica.shardID == 2)
                #expect(!replica.ready)
                #expect(router.metrics.value("router_nodes", [("role", "odgm")]) == 1)

                // Readiness changes travel with a heartbeat.
                var heartbeat = Oaas_Router_HeartbeatRequest()
                heartbeat.leaseID = registered.leaseID
                heartbeat.updateShards = true
                heartbeat.shards = [hostedShard("shop", (0, 1, true, true)), hostedShard("shop", (1, 2, true, true))]
                let renewed = try await client.heartbeat(heartbeat)
                #expect(renewed.revision > registered.revision)
                let after = try await client.getRoutes(Oaas_Router_GetRoutesRequest())
                #expect(after.collections.first?.partitions.last?.shards.first?.ready == true)

                // A plain heartbeat changes nothing, so the revision stays.
                let plain = try await client.heartbeat(Oaas_Router_HeartbeatRequest.with { $0.leaseID = registered.leaseID })
                #expect(plain.revision == renewed.revision)
            }
        }
    }

    @Test func reRegisteringAnInstanceReplacesItsEntryAndLease() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                let first = try await client.register(odgmRegistration(
                    instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1, shards: [(0, 1, true, true)]))
                let second = try await client.register(odgmRegistration(
                    instance: "odgm-1", address: "http://10.0.0.2:8080", cls: "shop", partitions: 1, shards: [(0, 1, true, true)]))
                #expect(second.leaseID != first.leaseID)
                let table = try await client.getRoutes(Oaas_Router_GetRoutesRequest())
                #expect(table.collections.first?.partitions.first?.shards.map(\.address) == ["http://10.0.0.2:8080"])
                let error = await #expect(throws: RPCError.self) {
                    try await client.heartbeat(Oaas_Router_HeartbeatRequest.with { $0.leaseID = first.leaseID })
                }
                #expect(error?.code == .notFound)
            }
        }
    }

    @Test func badRegistrationsNameTheField() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                var missing = odgmRegistration(instance: "", address: "http://a:1", cls: "c", partitions: 1, shards: [])
                var error = await #expect(throws: RPCError.self) { try await client.register(missing) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message == "instance_id required")

                missing.instanceID = "x"
                missing.address = "ftp://nowhere"
                error = await #expect(throws: RPCError.self) { try await client.register(missing) }
                #expect(error?.message.hasPrefix("address:") == true)

                missing.address = "http://a:1"
                missing.shards = [hostedShard("", (0, 1, true, true))]
                error = await #expect(throws: RPCError.self) { try await client.register(missing) }
                #expect(error?.message == "shards[0].cls_id required")
            }
        }
    }

    @Test func expiredLeaseRemovesRoutesAndNotifiesWatchers() async throws {
        try await withRouter(.test(leaseTTL: .milliseconds(300))) { router in
            try await withRouterClient(router.port) { client in
                let tables = Collected<Oaas_Router_RouteTable>()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try? await client.watchRoutes(Oaas_Router_WatchRoutesRequest()) { response in
                            for try await table in response.messages { tables.append(table) }
                        }
                    }
                    try await tables.wait { $0.count == 1 }
                    let registered = try await client.register(odgmRegistration(
                        instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1, shards: [(0, 1, true, true)]))
                    try await tables.wait { $0.last?.collections.count == 1 }
                    // No heartbeat: the sweeper drops the node and the watcher sees an empty table.
                    let seen = try await tables.wait(timeout: .seconds(20)) { $0.count >= 3 && $0.last?.collections.isEmpty == true }
                    #expect(seen.first?.collections.isEmpty == true)
                    let error = await #expect(throws: RPCError.self) {
                        try await client.heartbeat(Oaas_Router_HeartbeatRequest.with { $0.leaseID = registered.leaseID })
                    }
                    #expect(error?.code == .notFound)
                    group.cancelAll()
                }
            }
        }
    }

    @Test func heartbeatsKeepTheLeaseAlive() async throws {
        // Heartbeats for longer than one lease; the lease leaves room for a loaded machine's scheduling delays.
        try await withRouter(.test(leaseTTL: .seconds(3))) { router in
            try await withRouterClient(router.port) { client in
                let registered = try await client.register(odgmRegistration(
                    instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1, shards: [(0, 1, true, true)]))
                trace("registered")
                for _ in 0..<8 {
                    try await Task.sleep(for: .milliseconds(500))
                    trace("heartbeat")
                    _ = try await client.heartbeat(Oaas_Router_HeartbeatRequest.with { $0.leaseID = registered.leaseID })
                }
                let table = try await client.getRoutes(Oaas_Router_GetRoutesRequest())
                #expect(table.collections.map(\.clsID) == ["shop"])
                trace("client done")
            }
            trace("client closed")
        }
    }

    @Test func deregisterRemovesRoutesAtOnce() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                let registered = try await client.register(odgmRegistration(
                    instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1, shards: [(0, 1, true, true)]))
                _ = try await client.register(odgmRegistration(
                    instance: "odgm-2", address: "http://10.0.0.2:8080", nodeID: 2, cls: "cart", partitions: 1, shards: [(0, 1, true, true)]))
                _ = try await client.deregister(Oaas_Router_DeregisterRequest.with { $0.leaseID = registered.leaseID })
                let table = try await client.getRoutes(Oaas_Router_GetRoutesRequest())
                #expect(table.collections.map(\.clsID) == ["cart"])
                #expect(router.metrics.value("router_nodes", [("role", "odgm")]) == 1)
                // Twice is harmless.
                _ = try await client.deregister(Oaas_Router_DeregisterRequest.with { $0.leaseID = registered.leaseID })
            }
        }
    }

    @Test func getRoutesFiltersByClass() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                _ = try await client.register(odgmRegistration(
                    instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1, shards: [(0, 1, true, true)]))
                _ = try await client.register(odgmRegistration(
                    instance: "odgm-2", address: "http://10.0.0.2:8080", nodeID: 2, env: "edge", cls: "cart", partitions: 1,
                    shards: [(0, 1, true, true)]))
                let cart = try await client.getRoutes(Oaas_Router_GetRoutesRequest.with { $0.clsID = "cart" })
                #expect(cart.collections.map(\.clsID) == ["cart"])
                #expect(cart.collections.first?.env == "edge")
                #expect(cart.collections.first?.partitions.first?.shards.first?.env == "edge")
                let none = try await client.getRoutes(Oaas_Router_GetRoutesRequest.with { $0.clsID = "nope" })
                #expect(none.collections.isEmpty)
            }
        }
    }
}
