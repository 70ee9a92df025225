import Foundation
import Kube
import KubeTestServer
import Synchronization
import Testing

/// A clock that can be frozen: a frozen elector stops renewing, like a hung process.
final class FreezableClock: Clock, Sendable {
    typealias Instant = ContinuousClock.Instant
    private let base = ContinuousClock()
    private let frozen = Mutex(false)

    var now: Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }

    func freeze(_ value: Bool) { frozen.withLock { $0 = value } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await base.sleep(until: deadline, tolerance: tolerance)
        while frozen.withLock({ $0 }) { try await base.sleep(for: .milliseconds(10)) }
    }
}

/// A wall clock that can be moved forward: lets a candidate see a lease expire without waiting for it.
final class ShiftableWallClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    func advance(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }

    var now: @Sendable () -> Date {
        { [self] in Date().addingTimeInterval(offset.withLock { $0 }) }
    }
}

@Suite("Leader election", .serialized)
struct LeaderElectionTests {
    static let lease = "oaas-crm-leader"

    /// A 5 s lease renewed every 100 ms: generous enough that a loaded machine never misses a renewal, while
    /// expiry is simulated by moving a candidate's wall clock.
    private func elector(
        _ client: KubeClient, _ identity: String, clock: FreezableClock = FreezableClock(),
        wall: ShiftableWallClock = ShiftableWallClock()
    ) -> LeaderElector {
        LeaderElector(
            client: client,
            configuration: .init(namespace: "test", leaseName: Self.lease, identity: identity,
                                 leaseDuration: .seconds(5), renewDeadline: .seconds(3),
                                 retryPeriod: .milliseconds(100)),
            logger: quietLogger(), clock: clock, now: wall.now)
    }

    private func holder(_ server: KubeTestServer) -> String? {
        server.object("leases.coordination.k8s.io", namespace: "test", name: Self.lease)?
            .value(at: "spec", "holderIdentity")?.stringValue
    }

    @Test func identityHasARandomSuffix() {
        let identity = LeaderElector.makeIdentity(podName: "crm-0")
        #expect(identity.hasPrefix("crm-0_") && identity.count == "crm-0_".count + 6)
        #expect(identity != LeaderElector.makeIdentity(podName: "crm-0"))
    }

    @Test func oneLeaderThenHandoverWhenTheLeaderStopsRenewing() async throws {
        try await withKube { server, client in
            let clockA = FreezableClock()
            let wallB = ShiftableWallClock()
            let a = elector(client, "a", clock: clockA)
            let b = elector(client, "b", wall: wallB)
            let runA = Task { await a.run() }
            try await eventually(.seconds(5), "a leads") { a.isLeader }
            let runB = Task { await b.run() }

            // While a renews, b never leads.
            let observedOverlap = Mutex(false)
            for _ in 0..<10 {
                try await Task.sleep(for: .milliseconds(100))
                if a.isLeader && b.isLeader { observedOverlap.withLock { $0 = true } }
                #expect(!b.isLeader)
            }
            #expect(holder(server) == "a")
            let lease = try #require(server.object("leases.coordination.k8s.io", namespace: "test", name: Self.lease))
            #expect(lease.value(at: "spec", "leaseDurationSeconds") == 5)
            #expect(lease.value(at: "spec", "leaseTransitions") == 0)
            let renewTime = lease.value(at: "spec", "renewTime")?.stringValue ?? ""
            #expect(KubeTime.parse(renewTime) != nil && renewTime.contains("."))

            // a hangs and stops renewing; until the lease has expired, b keeps off...
            clockA.freeze(true)
            try await Task.sleep(for: .milliseconds(400))
            #expect(!b.isLeader)
            #expect(holder(server) == "a")
            // ...and once it has (b's clock moves past renewTime + leaseDurationSeconds), b takes over.
            wallB.advance(by: 6)
            try await eventually(.seconds(5), "b leads") { b.isLeader }
            #expect(holder(server) == "b")
            #expect(server.object("leases.coordination.k8s.io", namespace: "test", name: Self.lease)?
                .value(at: "spec", "leaseTransitions") == 1)

            // a wakes up, finds the lease taken, and steps down without fighting.
            clockA.freeze(false)
            try await eventually(.seconds(5), "a steps down") { !a.isLeader }
            try await Task.sleep(for: .milliseconds(300))
            #expect(b.isLeader && !a.isLeader)
            #expect(holder(server) == "b")
            #expect(!observedOverlap.withLock { $0 })

            runA.cancel()
            runB.cancel()
            await runA.value
            await runB.value
        }
    }

    @Test func releaseOnShutdownHandsOverWithoutWaiting() async throws {
        try await withKube { server, client in
            let slow = LeaderElector(
                client: client,
                configuration: .init(namespace: "test", leaseName: Self.lease, identity: "first",
                                     leaseDuration: .seconds(30), renewDeadline: .seconds(20),
                                     retryPeriod: .milliseconds(100)),
                logger: quietLogger())
            let updates = slow.leadershipUpdates()
            let runFirst = Task { await slow.run() }
            try await eventually(.seconds(5), "first leads") { slow.isLeader }

            let second = LeaderElector(
                client: client,
                configuration: .init(namespace: "test", leaseName: Self.lease, identity: "second",
                                     leaseDuration: .seconds(30), renewDeadline: .seconds(20),
                                     retryPeriod: .milliseconds(100)),
                logger: quietLogger())
            let runSecond = Task { await second.run() }
            try await Task.sleep(for: .milliseconds(300))
            #expect(!second.isLeader)

            runFirst.cancel()
            await runFirst.value
            #expect(!slow.isLeader)
            // Released: empty holder, so the 30 s lease need not expire.
            let started = ContinuousClock.now
            try await eventually(.seconds(20), "second leads") { second.isLeader }
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(holder(server) == "second")

            let history = try await within(.seconds(2), "leadership stream") { () -> [Bool] in
                var values: [Bool] = []
                for await value in updates { values.append(value) }
                return values
            }
            #expect(history == [false, true, false])

            runSecond.cancel()
            await runSecond.value
            #expect(holder(server) == "")
        }
    }

    @Test func staleWritesLoseTheRace() async throws {
        try await withKube { server, client in
            // Two candidates that both see an expired lease: only one update wins (resourceVersion).
            var expired = KubeObject(.leases, name: Self.lease, namespace: "test")
            expired.spec = ["holderIdentity": "gone", "leaseDurationSeconds": 1,
                            "renewTime": "2000-01-01T00:00:00.000000Z", "leaseTransitions": 4]
            try await client.create(.leases, expired)
            let a = elector(client, "a")
            let b = elector(client, "b")
            let runA = Task { await a.run() }
            let runB = Task { await b.run() }
            try await eventually(.seconds(5), "someone leads") { a.isLeader || b.isLeader }
            try await Task.sleep(for: .milliseconds(300))
            #expect(a.isLeader != b.isLeader)
            let lease = server.object("leases.coordination.k8s.io", namespace: "test", name: Self.lease)
            #expect(lease?.value(at: "spec", "leaseTransitions") == 5)
            #expect(lease?.value(at: "spec", "holderIdentity")?.stringValue == (a.isLeader ? "a" : "b"))
            runA.cancel()
            runB.cancel()
            await runA.value
            await runB.value
        }
    }
}
