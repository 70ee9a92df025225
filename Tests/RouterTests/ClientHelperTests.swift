import GRPCCore
import OaaSProto
import ServiceLifecycle
import Testing
@testable import Router
import RouterClient

@Suite(.timeLimit(.minutes(1))) struct ClientHelperTests {
    @Test func registrationAndWatcherFollowShardChanges() async throws {
        try await withRouter(.test(leaseTTL: .seconds(1))) { router in
            let registration = try RouterRegistration(
                routerURL: router.url,
                node: odgmRegistration(instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 2,
                                       shards: [(0, 1, true, true), (1, 2, true, false)]),
                logger: testLogger)
            let watcher = try RouteWatcher(routerURL: router.url, logger: testLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await registration.run() }
                group.addTask { try await watcher.run() }
                let updates = watcher.updates()
                try await eventually { watcher.shards(clsID: "shop", partitionID: 1).count == 1 }
                try await eventually { registration.isRegistered }
                #expect(watcher.collection("shop")?.partitionCount == 2)
                #expect(watcher.shards(clsID: "shop", partitionID: 0).first?.primary == true)
                #expect(watcher.shards(clsID: "shop", partitionID: 1).first?.ready == false)
                #expect(watcher.shards(clsID: "ghost", partitionID: 0).isEmpty)

                registration.updateShards([hostedShard("shop", (0, 1, true, true)), hostedShard("shop", (1, 2, true, true))])
                try await eventually { watcher.shards(clsID: "shop", partitionID: 1).first?.ready == true }

                // Heartbeats keep the short lease alive well past its TTL.
                try await Task.sleep(for: .milliseconds(1200))
                #expect(watcher.collection("shop") != nil)

                var revisions: [UInt64] = []
                for await table in updates {
                    revisions.append(table.revision)
                    if table.collections.first?.partitions.last?.shards.first?.ready == true { break }
                }
                #expect(zip(revisions, revisions.dropFirst()).allSatisfy { $0 < $1 })
                group.cancelAll()
            }
        }
    }

    @Test func registrationSurvivesARouterRestart() async throws {
        let port = try freePort()
        let url = "http://127.0.0.1:\(port)"
        let registration = try RouterRegistration(
            routerURL: url,
            node: odgmRegistration(instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1,
                                   shards: [(0, 1, true, true)]),
            backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)),
            logger: testLogger)
        let watcher = try RouteWatcher(routerURL: url, backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)),
                                       logger: testLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await registration.run() }
            group.addTask { try await watcher.run() }
            var firstLease: String?
            var firstRevision: UInt64 = 0
            try await withRouter(.test(port: port, leaseTTL: .seconds(1))) { router in
                try await eventually { watcher.collection("shop") != nil && registration.isRegistered }
                firstLease = registration.leaseID
                firstRevision = watcher.latest?.revision ?? 0
            }
            // The watcher keeps the last table while the router is away.
            #expect(watcher.collection("shop") != nil)
            try await withRouter(.test(port: port, leaseTTL: .seconds(1))) { router in
                // The new router does not know the lease: the heartbeat gets NOT_FOUND and the node registers again.
                let table = try await withRouterClient(router.port) { client in
                    try await eventually {
                        try await client.getRoutes(Oaas_Router_GetRoutesRequest()).collections.map(\.clsID) == ["shop"]
                    }
                    return try await client.getRoutes(Oaas_Router_GetRoutesRequest())
                }
                try await eventually { registration.leaseID != nil && registration.leaseID != firstLease }
                // The watcher reconnected to the new router, whose revisions continue above the old ones.
                try await eventually { (watcher.latest?.revision ?? 0) >= table.revision }
                #expect(table.revision > firstRevision)
            }
            group.cancelAll()
        }
    }

    @Test func gracefulShutdownDeregisters() async throws {
        try await withRouter { router in
            let registration = try RouterRegistration(
                routerURL: router.url,
                node: odgmRegistration(instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1,
                                       shards: [(0, 1, true, true)]),
                logger: testLogger)
            let serviceGroup = ServiceGroup(services: [registration], logger: testLogger)
            try await withRouterClient(router.port) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await serviceGroup.run() }
                    try await eventually { try await !client.getRoutes(Oaas_Router_GetRoutesRequest()).collections.isEmpty }
                    try await eventually { registration.isRegistered }
                    await serviceGroup.triggerGracefulShutdown()
                    try await group.waitForAll()
                    // Routes went at once, not after the 10 s lease.
                    let table = try await client.getRoutes(Oaas_Router_GetRoutesRequest())
                    #expect(table.collections.isEmpty)
                    #expect(!registration.isRegistered)
                }
            }
        }
    }

    @Test func badRouterURLsAreConfigurationErrors() {
        #expect(throws: (any Error).self) { try RouteWatcher(routerURL: "ftp://x", logger: testLogger) }
        #expect(throws: (any Error).self) {
            try RouterRegistration(routerURL: "http://", node: Oaas_Router_RegisterRequest(), logger: testLogger)
        }
    }
}
