import Foundation
import GRPCCore
import OaaSProto
import SwiftProtobuf
import Testing
@testable import Router
import RouterClient

@Suite(.timeLimit(.minutes(1))) struct PeeringTests {
    @Test func peeredRoutersShareClassesEventsAndForwarding() async throws {
        let portA = try freePort(), portB = try freePort()
        let urlA = "http://127.0.0.1:\(portA)", urlB = "http://127.0.0.1:\(portB)"
        try await withFakeNode("alpha-node") { alphaAddress, _ in
            try await withFakeNode("beta-node") { betaAddress, _ in
                try await withRouter(.test(port: portB, env: "b", peers: [urlA], leaseTTL: .seconds(1))) { routerB in
                    // The beta node keeps its short lease alive through the client helper.
                    let registration = try RouterRegistration(
                        routerURL: urlB,
                        node: odgmRegistration(instance: "beta", address: betaAddress, cls: "beta", partitions: 1,
                                               shards: [(0, 1, true, true)]),
                        logger: testLogger)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await registration.run() }
                        try await withRouter(.test(port: portA, env: "a", peers: [urlB])) { routerA in
                            try await peeredScenario(routerA: routerA, routerB: routerB, alphaAddress: alphaAddress)
                        }
                        // Router A is gone: after a lease without contact, B forgets A's routes.
                        try await withRouterClient(portB) { client in
                            try await eventually {
                                try await client.getRoutes(Oaas_Router_GetRoutesRequest()).collections.map(\.clsID) == ["beta"]
                            }
                        }
                        group.cancelAll()
                    }
                }
            }
        }
    }

    private func peeredScenario(routerA: RunningRouter, routerB: RunningRouter, alphaAddress: String) async throws {
        try await withRouterClient(routerA.port) { clientA in
            try await withRouterClient(routerB.port) { clientB in
                _ = try await clientA.register(odgmRegistration(
                    instance: "alpha", address: alphaAddress, cls: "alpha", partitions: 2,
                    shards: [(0, 1, true, true), (1, 2, true, true)]))

                // Each router sees the other's classes, tagged with the other's env; local_only hides them.
                try await eventually {
                    let classes = try await clientB.getRoutes(Oaas_Router_GetRoutesRequest()).collections
                    return classes.map(\.clsID) == ["alpha", "beta"] && classes.first?.env == "a"
                }
                try await eventually {
                    let classes = try await clientA.getRoutes(Oaas_Router_GetRoutesRequest()).collections
                    return classes.map(\.clsID) == ["alpha", "beta"] && classes.last?.env == "b"
                }
                let localB = try await clientB.getRoutes(Oaas_Router_GetRoutesRequest.with { $0.localOnly = true })
                #expect(localB.collections.map(\.clsID) == ["beta"])

                // A class known only through the peer is forwarded via the peer.
                var forward = Oaas_Router_ForwardRequest()
                forward.method = "/oprc.OprcFunction/InvokeFn"
                forward.request = try Oprc_InvocationRequest.with {
                    $0.clsID = "alpha"
                    $0.partitionID = 1
                    $0.fnID = "echo"
                    $0.payload = Data("ping".utf8)
                }.serializedData()
                let response = try await clientB.forward(forward)
                #expect(response.code == 0)
                let result = try Oprc_InvocationResponse(serializedBytes: response.response)
                #expect(result.headers["node"] == "alpha-node")
                #expect(result.payload == Data("ping".utf8))
                // B's hop counts against A's limit.
                forward.hopCount = 4
                let error = await #expect(throws: RPCError.self) { try await clientB.forward(forward) }
                #expect(error?.code == .unavailable)

                // Events published on A reach B's subscribers once; local_only ones and A itself see no echo.
                try await eventually { routerA.role.events.subscriberCount == 1 } // B's bridge for "alpha"
                let onB = Collected<Oaas_Router_EventDelivery>()
                let onBLocal = Collected<Oaas_Router_EventDelivery>()
                let onA = Collected<Oaas_Router_EventDelivery>()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (client, request, sink) in [
                        (clientB, Oaas_Router_SubscribeRequest.with { $0.clsID = "alpha"; $0.includeValues = true }, onB),
                        (clientB, Oaas_Router_SubscribeRequest.with { $0.clsID = "alpha"; $0.localOnly = true }, onBLocal),
                        (clientA, Oaas_Router_SubscribeRequest.with { $0.clsID = "alpha" }, onA),
                    ] {
                        group.addTask {
                            try? await client.subscribe(request) { response in
                                for try await delivery in response.messages { sink.append(delivery) }
                            }
                        }
                    }
                    try await eventually { routerB.role.events.subscriberCount == 3 && routerA.role.events.subscriberCount == 2 }
                    let event = changeEvent("alpha", pid: 1, id: 7, version: 5, value: "x")
                    _ = try await clientA.publish(publishRequest([event]))
                    let bridged = try await onB.wait { $0.count == 1 }
                    #expect(bridged.first?.event.eventID == event.eventID)
                    #expect(bridged.first?.event.originEnv == "a")
                    #expect(bridged.first?.event.changes.first?.value.data == Data("x".utf8))
                    try await onA.wait { $0.count == 1 }
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(onA.all.count == 1)
                    #expect(onB.all.count == 1)
                    #expect(onBLocal.all.isEmpty)
                    group.cancelAll()
                }
            }
        }
    }

    @Test func localRoutesWinOverPeerRoutes() throws {
        var local = Oaas_Router_CollectionRoute()
        local.clsID = "shop"
        local.partitionCount = 2
        local.env = "a"
        local.partitions = [.with { $0.partitionID = 0; $0.shards = [.with { $0.address = "http://local:1"; $0.ready = true }] }]
        var remote = local
        remote.env = "b"
        remote.partitions = [UInt32(0), 1].map { pid in
            .with { $0.partitionID = pid; $0.shards = [.with { $0.address = "http://remote:1"; $0.ready = true }] }
        }
        var other = remote
        other.clsID = "cart"
        let snapshot = RouteSnapshot.merge(local: ["shop": local], peers: ["http://peer:1": [remote, other]], revision: 1, env: "a")
        #expect(snapshot.merged["shop"]?.env == "a")
        #expect(snapshot.merged["shop"]?.partitions.map(\.partitionID) == [0, 1])
        #expect(try snapshot.target(clsID: "shop", partitionID: 0) == .node(address: "http://local:1"))
        #expect(try snapshot.target(clsID: "shop", partitionID: 1) == .peer(url: "http://peer:1"))
        #expect(try snapshot.target(clsID: "cart", partitionID: 0) == .peer(url: "http://peer:1"))
        #expect(snapshot.collections(clsID: nil, localOnly: true).map(\.clsID) == ["shop"])
        #expect(snapshot.collections(clsID: nil, localOnly: false).map(\.clsID) == ["cart", "shop"])
    }
}
