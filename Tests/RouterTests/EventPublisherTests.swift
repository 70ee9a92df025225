import Foundation
import GRPCCore
import OaaSProto
import ServiceLifecycle
import Synchronization
import Testing
@testable import Router
import RouterClient

private func changeEvent(_ n: UInt64, cls: String = "shop") -> Oaas_Router_ObjectChangeEvent {
    var event = Oaas_Router_ObjectChangeEvent()
    event.eventID = "e\(n)"
    event.clsID = cls
    event.objectID = n
    event.version = 1
    return event
}

/// Batches handed to the publisher's send function.
private final class Batches: Sendable {
    let sizes = Mutex<[Int]>([])
    var total: Int { sizes.withLock { $0.reduce(0, +) } }
}

@Suite(.timeLimit(.minutes(1))) struct EventPublisherTests {
    /// Runs `publisher` for the duration of `body`, then shuts it down gracefully.
    func running(_ publisher: RouterEventPublisher, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(services: [publisher], logger: testLogger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func batchesHoldAtMostAHundredEvents() async throws {
        let batches = Batches()
        let publisher = RouterEventPublisher(logger: testLogger) { events in
            batches.sizes.withLock { $0.append(events.count) }
        }
        try await running(publisher) {
            for n in 0..<250 { publisher.publish(changeEvent(UInt64(n))) }
            try await eventually { batches.total == 250 }
        }
        let sizes = batches.sizes.withLock { $0 }
        #expect(sizes.allSatisfy { $0 <= 100 })
        #expect(sizes.count >= 3)
    }

    @Test func aLoneEventGoesOutWithinTheDelay() async throws {
        let sent = Mutex<ContinuousClock.Instant?>(nil)
        let publisher = RouterEventPublisher(maxDelay: .milliseconds(10), logger: testLogger) { _ in
            sent.withLock { $0 = .now }
        }
        try await running(publisher) {
            let start = ContinuousClock.now
            publisher.publish(changeEvent(1))
            try await eventually { sent.withLock { $0 } != nil }
            let elapsed = try #require(sent.withLock { $0 }) - start
            #expect(elapsed >= .milliseconds(10))
            // Well before a batch could fill; generous for a loaded test machine.
            #expect(elapsed < .seconds(5))
        }
    }

    @Test func failuresAreCountedAndNotRetried() async throws {
        let metrics = RecordingMetrics()
        let attempts = Mutex(0)
        struct Refused: Error {}
        let publisher = RouterEventPublisher(metricsFactory: metrics, logger: testLogger) { _ in
            attempts.withLock { $0 += 1 }
            throw Refused()
        }
        try await running(publisher) {
            for n in 0..<3 { publisher.publish(changeEvent(UInt64(n))) }
            try await eventually { metrics.value("odgm_events_publish_failures_total") == 3 }
        }
        #expect(attempts.withLock { $0 } == 1)
        #expect(publisher.pending == 0)
    }

    @Test func eventsReachARouterSubscriber() async throws {
        try await withRouter { router in
            let publisher = try RouterEventPublisher(routerURL: router.url, logger: testLogger)
            try await running(publisher) {
                try await withRouterClient(router.port) { client in
                    var request = Oaas_Router_SubscribeRequest()
                    request.clsID = "shop"
                    let received = Mutex<[String]>([])
                    let subscription = Task {
                        try? await client.subscribe(request) { response in
                            for try await delivery in response.messages {
                                received.withLock { $0.append(delivery.event.eventID) }
                            }
                        }
                    }
                    try await eventually { router.role.events.subscriberCount > 0 }
                    publisher.publish(changeEvent(1))
                    publisher.publish(changeEvent(2, cls: "other"))
                    publisher.publish(changeEvent(3))
                    try await eventually { received.withLock { $0 } == ["e1", "e3"] }
                    subscription.cancel()
                }
            }
        }
    }
}
