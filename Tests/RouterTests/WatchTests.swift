import OaaSProto
import Testing
@testable import Router

@Suite(.timeLimit(.minutes(1))) struct WatchTests {
    @Test func watchSendsASnapshotThenCoalescedChangesWithIncreasingRevisions() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                let tables = Collected<Oaas_Router_RouteTable>()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try? await client.watchRoutes(Oaas_Router_WatchRoutesRequest()) { response in
                            for try await table in response.messages { tables.append(table) }
                        }
                    }
                    try await tables.wait { $0.count == 1 }
                    // 20 registrations in quick succession: 20 revisions, at most one table per watch interval.
                    let start = ContinuousClock.now
                    for index in 0..<20 {
                        _ = try await client.register(odgmRegistration(
                            instance: "odgm-\(index)", address: "http://10.0.0.\(index):8080", nodeID: UInt64(index),
                            cls: "cls-\(index)", partitions: 1, shards: [(0, 1, true, true)]))
                    }
                    let elapsed = ContinuousClock.now - start
                    let seen = try await tables.wait { $0.last?.collections.count == 20 }
                    let updates = seen.dropFirst()
                    #expect(Double(updates.count) <= elapsed / .milliseconds(100) + 2)
                    let revisions = seen.map(\.revision)
                    #expect(zip(revisions, revisions.dropFirst()).allSatisfy { $0 < $1 })
                    // generated_at_ms is stamped when the router builds each table, so it shows the send pacing
                    // without the client's scheduling jitter (1 ms of rounding allowed).
                    let stamps = seen.map { Int64($0.generatedAtMs) }
                    #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $1 - $0 >= 99 })
                    group.cancelAll()
                }
            }
        }
    }

    @Test func filteredWatchSkipsOtherClasses() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                let tables = Collected<Oaas_Router_RouteTable>()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try? await client.watchRoutes(Oaas_Router_WatchRoutesRequest.with { $0.clsID = "cart" }) { response in
                            for try await table in response.messages { tables.append(table) }
                        }
                    }
                    try await tables.wait { $0.count == 1 }
                    _ = try await client.register(odgmRegistration(
                        instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1, shards: [(0, 1, true, true)]))
                    _ = try await client.register(odgmRegistration(
                        instance: "odgm-2", address: "http://10.0.0.2:8080", cls: "cart", partitions: 1, shards: [(0, 1, true, true)]))
                    let seen = try await tables.wait { $0.last?.collections.count == 1 }
                    #expect(seen.allSatisfy { $0.collections.allSatisfy { $0.clsID == "cart" } })
                    // Nothing more arrives for a change to another class.
                    _ = try await client.register(odgmRegistration(
                        instance: "odgm-3", address: "http://10.0.0.3:8080", cls: "other", partitions: 1, shards: [(0, 1, true, true)]))
                    try await Task.sleep(for: .milliseconds(250))
                    #expect(tables.all.count == seen.count)
                    group.cancelAll()
                }
            }
        }
    }

    @Test func closedWatchersAreForgotten() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                for _ in 0..<3 {
                    let first = try await client.watchRoutes(Oaas_Router_WatchRoutesRequest()) { response -> Oaas_Router_RouteTable? in
                        for try await table in response.messages { return table }
                        return nil
                    }
                    #expect(first != nil)
                }
                _ = try await client.register(odgmRegistration(
                    instance: "odgm-1", address: "http://10.0.0.1:8080", cls: "shop", partitions: 1, shards: [(0, 1, true, true)]))
                // Only the client pool's own watch is left once the closed ones are pruned on the next change.
                try await eventually { await router.role.hub.watcherCount == 1 }
            }
        }
    }
}
