import Foundation
import GRPCCore
import OaaSModels
import OaaSProto
import Synchronization
import Testing
@testable import PM

/// The pure workflow pieces: placement inputs, derivation (§5.1–§5.3), the unit (§5.4) and retries (§5.5).
@Suite struct DerivationTests {
    private let package = OPackage(
        name: "shop",
        classes: [OClass(key: "Cart", functionBindings: [
            FunctionBinding(name: "add", functionKey: "Cart.add"),
            FunctionBinding(name: "add2", functionKey: "Cart.add"),
        ], options: ["event_publish": "true", "shared": "class"])],
        functions: [OFunction(key: "Cart.add", provisionConfig: ProvisionConfig(containerImage: "img:1", minScale: 2))]
    )

    private func health(_ env: String, _ availability: Double?, status: ClusterHealth.Status = .healthy) -> ClusterHealth {
        var health = ClusterHealth(clusterName: env, status: status)
        health.availability = availability
        return health
    }

    private func derive(_ spec: OClassDeployment, health: [ClusterHealth], previous: OClassDeployment? = nil, cls: OClass? = nil) throws -> (OClassDeployment, PlacementPlan) {
        try Derivation(
            spec: spec, package: package, cls: cls ?? package.classes[0], previous: previous,
            configuredEnvs: health.map(\.clusterName).sorted(),
            health: Dictionary(uniqueKeysWithValues: health.map { ($0.clusterName, $0) }),
            assumedAvailability: 0.99
        ).derive()
    }

    @Test func quorumMath() {
        #expect(abs(Placement.quorumAvailability([0.9, 0.9, 0.9]) - 0.972) < 1e-12)
        #expect(abs(Placement.quorumAvailability([0.97, 0.97]) - 0.9409) < 1e-12)
    }

    @Test func derivationFillsTheODGMSectionAndFunctions() throws {
        let spec = OClassDeployment(key: "cart", packageName: "shop", classKey: "Cart", odgm: OdgmDataSpec(options: ["shared": "deployment"]))
        let (record, plan) = try derive(spec, health: [health("e1", 0.97), health("e2", 0.97), health("e3", 0.97)])
        #expect(plan.selectedEnvs == ["e1", "e2", "e3"])
        #expect(record.targetEnvs == ["e1", "e2", "e3"])
        // One spec per distinct bound function; min_scale passes through untouched.
        #expect(record.functions.map(\.functionKey) == ["Cart.add"])
        #expect(record.functions.first?.provisionConfig?.minScale == 2)
        let odgm = try #require(record.odgm)
        #expect(odgm.collections == ["shop.Cart"])
        #expect(odgm.log == "info")
        #expect(odgm.options == ["event_publish": "true", "shared": "deployment"])
        #expect(odgm.partitionCount == 1)
        #expect(odgm.replicaCount == 3)
        #expect(odgm.envNodeIds.keys.sorted() == ["e1", "e2", "e3"])
        #expect(record.status?.replicationFactor == 3)
    }

    @Test func unhealthyEnvsAreNotCandidatesAndNoneIs503() throws {
        let spec = OClassDeployment(key: "cart", packageName: "shop", classKey: "Cart")
        let (_, plan) = try derive(spec, health: [health("a", 0.99, status: .unhealthy), health("b", nil, status: .degraded)])
        #expect(plan.selectedEnvs == ["b"])
        #expect(throws: PMError.self) { try derive(spec, health: [health("a", 0.99, status: .unknown)]) }
    }

    @Test func partitionCountIsFrozenAndNodeIdsAreStable() throws {
        let spec = OClassDeployment(key: "cart", packageName: "shop", classKey: "Cart", odgm: OdgmDataSpec(partitionCount: 4))
        let (first, _) = try derive(spec, health: [health("a", 1), health("b", 1)])
        var again = spec
        again.odgm = nil
        let (second, _) = try derive(again, health: [health("a", 1), health("b", 1)], previous: first)
        #expect(second.odgm?.partitionCount == 4, "the stored count stays")
        #expect(second.odgm?.envNodeIds == first.odgm?.envNodeIds)
        var changed = spec
        changed.odgm = OdgmDataSpec(partitionCount: 8)
        #expect { try derive(changed, health: [health("a", 1)], previous: first) } throws: { error in
            (error as? PMError)?.field == "odgm.partition_count" && (error as? PMError)?.code == .conflict
        }
    }

    @Test func unitIsBuiltFieldByField() throws {
        let strong = OClass(key: "Cart", stateSpec: StateSpecification(consistencyModel: .strong, persistent: true),
                            functionBindings: [FunctionBinding(name: "add", functionKey: "Cart.add", accessModifier: .internal, parameters: ["x"])])
        var spec = OClassDeployment(key: "cart", packageName: "shop", classKey: "Cart",
                                    nfrRequirements: NfrRequirements(minThroughputRps: 10, cpuUtilizationTarget: 0.5),
                                    telemetry: TelemetryConfig(samplingRate: 0.5, resourceAttributes: ["team": "a"]),
                                    enforcement: EnforcementConfig(mode: .enforce, dimensions: [.replicas, .cpu]))
        spec.odgm = OdgmDataSpec(storageSize: "2Gi", storageClass: "fast")
        var (record, _) = try derive(spec, health: [health("a", 1)], cls: strong)
        record.revision = 42
        record.createdAt = "2025-01-02T03:04:05.000Z"
        let unit = UnitBuilder.unit(record, cls: strong, env: "a")
        #expect(unit.odgmConfig.replicaCount == 3)
        #expect(unit.odgmConfig.shardType == "raft")
        #expect(unit.odgmConfig.envNodeIds["a"]?.ids.count == 3)
        let assignment = try #require(unit.odgmConfig.collectionAssignments["shop.Cart"]?.assignments.first)
        #expect(assignment.primary == 1)
        #expect(assignment.shardIds == [1, 2, 3])
        #expect(assignment.replica.count == 3)
        #expect(unit.odgmConfig.persistence.enabled)
        #expect(unit.odgmConfig.persistence.size == "2Gi")
        #expect(unit.odgmConfig.persistence.storageClass == "fast")
        #expect(unit.functionBindings.first?.accessModifier == "INTERNAL")
        #expect(unit.functionBindings.first?.parameters == ["x"])
        #expect(unit.createdAt.seconds == 1_735_787_045)
        #expect(unit.revision == 42)
        #expect(unit.nfr.minThroughputRps == 10)
        #expect(unit.nfr.cpuUtilizationTarget == 0.5)
        #expect(unit.nfr.consistency == "strong")
        #expect(unit.nfr.enforcementMode == "enforce")
        #expect(unit.nfr.enforcementDimensions == ["replicas", "cpu"])
        #expect(unit.telemetry.enabled)
        #expect(unit.telemetry.samplingRate == 0.5)
        #expect(unit.telemetry.resourceAttributes == ["team": "a"])
        #expect(!unit.hasSelectedTemplate)
        var later = record
        later.revision = 43
        #expect(UnitBuilder.sameDesiredState(unit, UnitBuilder.unit(later, cls: strong, env: "a")))
    }

    @Test func retryBackoffAndRetryableCodes() async {
        let policy = RetryPolicy(attempts: 3, baseDelay: .milliseconds(200), maxDelay: .seconds(5))
        for retry in 1...3 {
            let delay = policy.delay(beforeRetry: retry)
            let nominal = 0.2 * Double(1 << (retry - 1))
            let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
            #expect(seconds >= nominal * 0.8 - 1e-9 && seconds <= nominal * 1.2 + 1e-9)
        }
        #expect(policy.delay(beforeRetry: 10) == .seconds(5))
        let fast = RetryPolicy(attempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1))
        let counter = Counter()
        let (result, attempts) = await fast.run { () async throws -> Int in
            counter.increment()
            throw RPCErrorFake.permissionDenied
        }
        #expect(attempts == 1)
        #expect((try? result.get()) == nil)
        let flaky = Counter()
        let retried = await fast.run { () async throws -> Int in
            if flaky.increment() < 3 { throw RPCErrorFake.unavailable }
            return 7
        }
        #expect(retried.attempts == 3)
        #expect((try? retried.result.get()) == 7)
    }

    @Test func timestampsRoundTrip() throws {
        let text = Timestamps.format(Date(timeIntervalSince1970: 1_735_787_045.25))
        #expect(text == "2025-01-02T03:04:05.250Z")
        #expect(Timestamps.parse(text)?.timeIntervalSince1970 == 1_735_787_045.25)
        #expect(Timestamps.parse("2025-01-02T03:04:05Z") != nil)
    }

    @Test func traceparentContinuesTheCallersTrace() {
        let child = TraceContext.child(of: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(child.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-"))
        #expect(child.hasSuffix("-01"))
        let fresh = TraceContext.child(of: "garbage")
        #expect(fresh.split(separator: "-").map(\.count) == [2, 32, 16, 2])
    }
}

private enum RPCErrorFake {
    static let permissionDenied = RPCError(code: .permissionDenied, message: "no")
    static let unavailable = RPCError(code: .unavailable, message: "down")
}

private final class Counter: Sendable {
    private let value = Mutex(0)
    @discardableResult
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
