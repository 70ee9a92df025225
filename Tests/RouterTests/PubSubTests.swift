import GRPCCore
import OaaSProto
import Testing
@testable import Router

/// Opens a Subscribe stream in the background and waits until the router has registered it.
private func subscribed(
    _ client: RouterClient, _ router: RunningRouter, _ request: Oaas_Router_SubscribeRequest,
    into deliveries: Collected<Oaas_Router_EventDelivery>, group: inout ThrowingTaskGroup<Void, any Error>
) async throws {
    let before = router.role.events.subscriberCount
    group.addTask {
        try? await client.subscribe(request) { response in
            for try await delivery in response.messages { deliveries.append(delivery) }
        }
    }
    try await eventually { router.role.events.subscriberCount > before }
}

@Suite(.timeLimit(.minutes(1))) struct PubSubTests {
    @Test func subscribersGetOnlyMatchingEvents() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                let byClass = Collected<Oaas_Router_EventDelivery>()
                let byPartition = Collected<Oaas_Router_EventDelivery>()
                let byNumeric = Collected<Oaas_Router_EventDelivery>()
                let byString = Collected<Oaas_Router_EventDelivery>()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    try await subscribed(client, router, .with { $0.clsID = "shop"; $0.includeValues = true }, into: byClass, group: &group)
                    try await subscribed(client, router, .with { $0.clsID = "shop"; $0.partitionID = 1 }, into: byPartition, group: &group)
                    try await subscribed(client, router, .with { $0.clsID = "shop"; $0.objectID = 7 }, into: byNumeric, group: &group)
                    // String ids are matched normalized.
                    try await subscribed(client, router, .with { $0.clsID = "shop"; $0.objectIDStr = "User-42" }, into: byString, group: &group)

                    let events = [
                        changeEvent("shop", pid: 0, id: 7, version: 1),
                        changeEvent("shop", pid: 1, idStr: "user-42", version: 1),
                        changeEvent("other", pid: 1, id: 7, version: 1),
                        changeEvent("shop", pid: 1, id: 8, version: 2),
                    ]
                    let accepted = try await client.publish(publishRequest(events))
                    #expect(accepted.accepted == 4)

                    let all = try await byClass.wait { $0.count == 3 }
                    #expect(all.map(\.event.eventID) == [events[0].eventID, events[1].eventID, events[3].eventID])
                    #expect(all.first?.event.changes.first?.hasValue == true)
                    #expect(all.first?.event.originEnv == "default")
                    let partition = try await byPartition.wait { $0.count == 2 }
                    #expect(partition.map(\.event.eventID) == [events[1].eventID, events[3].eventID])
                    // include_values=false strips values but keeps the change.
                    #expect(partition.first?.event.changes.first?.hasValue == false)
                    #expect(partition.first?.event.changes.first?.keyStr == "k")
                    let numeric = try await byNumeric.wait { $0.count == 1 }
                    #expect(numeric.first?.event.eventID == events[0].eventID)
                    let string = try await byString.wait { $0.count == 1 }
                    #expect(string.first?.event.eventID == events[1].eventID)
                    #expect(router.metrics.value("router_events_published_total") == 4)
                    #expect(router.metrics.value("router_subscribers") == 4)
                    group.cancelAll()
                }
            }
        }
    }

    @Test func badSubscriptionsAreRejected() async throws {
        try await withRouter { router in
            try await withRouterClient(router.port) { client in
                let requests: [(Oaas_Router_SubscribeRequest, String)] = [
                    (.init(), "cls_id required"),
                    (.with { $0.clsID = "c"; $0.objectID = 1; $0.objectIDStr = "a" }, "exactly one of object_id or object_id_str must be set"),
                    (.with { $0.clsID = "c"; $0.objectID = 0 }, "object_id must be non-zero (0 means unset)"),
                    (.with { $0.clsID = "c"; $0.objectIDStr = "bad$" }, "object_id_str contains invalid character '$' at offset 3; allowed [a-z0-9.:-]"),
                ]
                for (request, message) in requests {
                    let error = await #expect(throws: RPCError.self) {
                        try await client.subscribe(request) { response in
                            for try await _ in response.messages {}
                        }
                    }
                    #expect(error?.code == .invalidArgument)
                    #expect(error?.message == message)
                }
                let error = await #expect(throws: RPCError.self) {
                    try await client.publish(publishRequest([changeEvent("c", pid: 0, id: 1), changeEvent("", pid: 0, id: 1)]))
                }
                #expect(error?.message == "events[1].cls_id required")
            }
        }
    }

    @Test func aTinyBufferDropsTheOldestAndCountsThem() async throws {
        try await withRouter(.test(buffer: 2)) { router in
            try await withRouterClient(router.port) { client in
                let deliveries = Collected<Oaas_Router_EventDelivery>()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    try await subscribed(client, router, .with { $0.clsID = "shop" }, into: deliveries, group: &group)
                    let events = (1...200).map { changeEvent("shop", pid: 0, id: 7, version: UInt64($0)) }
                    _ = try await client.publish(publishRequest(events))
                    // Every event is either delivered or counted as dropped, and the last one always arrives.
                    let seen = try await deliveries.wait {
                        $0.count + Int($0.reduce(0) { $0 + $1.droppedBefore }) == 200
                    }
                    #expect(seen.last?.event.version == 200)
                    #expect(seen.contains { $0.droppedBefore > 0 })
                    let versions = seen.map(\.event.version)
                    #expect(zip(versions, versions.dropFirst()).allSatisfy { $0 < $1 })
                    #expect(router.metrics.value("router_events_dropped_total") == Double(200 - seen.count))
                    group.cancelAll()
                }
            }
        }
    }

    @Test func subscriberQueueReportsDropsOnTheNextDelivery() throws {
        let filter = try SubscriptionFilter(.with { $0.clsID = "shop" })
        let subscriber = Subscriber(id: 1, filter: filter, capacity: 2)
        let accepted = (1...5).map { subscriber.offer(changeEvent("shop", pid: 0, id: 1, version: UInt64($0))) }
        #expect(accepted == [true, true, false, false, false])
        let first = try #require(subscriber.next())
        #expect(first.event.version == 4)
        #expect(first.droppedBefore == 3)
        #expect(first.event.changes.first?.hasValue == false)
        let second = try #require(subscriber.next())
        #expect(second.event.version == 5)
        #expect(second.droppedBefore == 0)
        #expect(subscriber.next() == nil)
    }

    @Test func ringBufferKeepsTheNewest() {
        var ring = RingBuffer<Int>(capacity: 3)
        #expect(ring.popFirst() == nil)
        for value in 1...3 { #expect(ring.append(value) == false) }
        #expect(ring.append(4) == true)
        #expect(ring.popFirst() == 2)
        #expect(ring.append(5) == false)
        var rest: [Int] = []
        while let value = ring.popFirst() { rest.append(value) }
        #expect(rest == [3, 4, 5])
        #expect(ring.isEmpty)
    }
}
