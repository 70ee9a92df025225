import Foundation
import Kube
import OaaSCore
import Testing

@testable import CRM

/// The pure parts of the NFR analyzer and enforcer (control-plane spec §12): formulas, compliance, step and clamp,
/// gating, query strings and the status shape.
@Suite("NFR math")
struct NFRMathTests {
    // MARK: Recommendations

    @Test func replicasCpuAndMemoryAreRoundedUpIntegers() {
        let rec = NFRMath.recommend(.init(cpuMillis: 1200, memoryBytes: 100_000_000), targets: .init(),
                                    requestCPUPerPodMillis: 500)
        #expect(rec == NFRRecommendation(replicas: 3, cpuMillis: 1560, memoryBytes: 120_000_000, confidence: 0.8))
    }

    @Test func throughputTargetScalesByObservedRate() {
        // (100 / 50) × 500 / 500 = 2
        let rec = NFRMath.recommend(.init(rps: 50, cpuMillis: 500), targets: .init(minThroughputRps: 100),
                                    requestCPUPerPodMillis: 500)
        #expect(rec.replicas == 2)
        // No traffic counts as 1 rps: (10 / 1) × 100 / 500 = 2
        let idle = NFRMath.recommend(.init(rps: 0, cpuMillis: 100), targets: .init(minThroughputRps: 10),
                                     requestCPUPerPodMillis: 500)
        #expect(idle.replicas == 2)
    }

    @Test func requestCPUPerPodIsHonoured() {
        let rec = NFRMath.recommend(.init(cpuMillis: 1000), targets: .init(), requestCPUPerPodMillis: 250)
        #expect(rec.replicas == 4)
        let small = NFRMath.recommend(.init(cpuMillis: 10), targets: .init(), requestCPUPerPodMillis: 500)
        #expect(small.replicas == 1)
    }

    @Test func slowP99AddsAReplicaWithLowerConfidence() {
        let slow = NFRMath.recommend(.init(p99Millis: 300, cpuMillis: 1000), targets: .init(),
                                     requestCPUPerPodMillis: 500)
        #expect(slow.replicas == 3)
        #expect(slow.confidence == 0.6)
        let withinOwnBound = NFRMath.recommend(.init(p99Millis: 300, cpuMillis: 1000), targets: .init(maxLatencyMs: 400),
                                               requestCPUPerPodMillis: 500)
        #expect(withinOwnBound.replicas == 2)
        #expect(withinOwnBound.confidence == 0.8)
    }

    @Test func noCpuMeansNoReplicasOrCpuRecommendation() {
        let rec = NFRMath.recommend(.init(rps: 10, p99Millis: 900, cpuMillis: nil, memoryBytes: 1000), targets: .init(),
                                    requestCPUPerPodMillis: 500)
        #expect(rec.replicas == nil)
        #expect(rec.cpuMillis == nil)
        #expect(rec.memoryBytes == 1200)
        #expect(NFRMath.recommend(.init(cpuMillis: 0), targets: .init(), requestCPUPerPodMillis: 500).isEmpty)
    }

    @Test func floatNoiseAndAbsurdValuesStayIntegers() {
        let rec = NFRMath.recommend(.init(cpuMillis: 1000.000_000_000_1), targets: .init(), requestCPUPerPodMillis: 500)
        #expect(rec.replicas == 2)
        let huge = NFRMath.recommend(.init(cpuMillis: 1e300, memoryBytes: 1e300), targets: .init(minThroughputRps: 1_000_000),
                                     requestCPUPerPodMillis: 1)
        #expect(huge.replicas == 1_000_000_000_000_000)
        #expect(huge.memoryBytes == 1_000_000_000_000_000)
    }

    // MARK: Compliance

    @Test func compliancePerDimensionAndOverall() {
        let targets = NFRTargets(minThroughputRps: 100, maxLatencyMs: 100, availabilityPct: 99.9)
        #expect(NFRMath.compliance(.init(rps: 90, p99Millis: 50), targets: targets)
            == NFRComplianceReport(throughput: .violated, latency: .compliant, availability: .unknown))
        #expect(NFRMath.compliance(.init(rps: 105, p99Millis: 95), targets: targets)
            == NFRComplianceReport(throughput: .atRisk, latency: .atRisk))
        #expect(NFRMath.compliance(.init(rps: 120, p99Millis: 120), targets: targets).latency == .violated)
        #expect(NFRMath.compliance(.init(rps: 120, p99Millis: 20), targets: targets).overall == .compliant)
        #expect(NFRMath.compliance(.init(rps: 90, p99Millis: 95), targets: targets).overall == .violated)
        // No target or no data: Unknown; nothing known at all: overall Unknown.
        #expect(NFRMath.compliance(.init(rps: 5), targets: .init()).overall == .unknown)
        #expect(NFRMath.compliance(.init(), targets: targets).throughput == .unknown)
        let combined = NFRComplianceReport.combined([
            .init(throughput: .compliant, latency: .unknown), .init(throughput: .atRisk, latency: .compliant),
        ])
        #expect(combined == NFRComplianceReport(throughput: .atRisk, latency: .compliant))
    }

    // MARK: Enforcer step, clamp and gate

    @Test func replicaStepIsBoundedAndClamped() {
        func next(_ current: Int, _ target: Int, _ percent: Int = 30, cap: Int = 20) -> (Int, Int?) {
            let result = NFRMath.nextReplicas(current: current, target: target, maxDeltaPercent: percent, upperBound: cap)
            return (result.value, result.clampedTo)
        }
        #expect(next(1, 3) == (2, nil))  // 30 % of 1 rounds to 0: at least 1
        #expect(next(10, 20) == (13, nil))
        #expect(next(10, 2) == (7, nil))
        #expect(next(18, 50) == (20, 20))  // 23 → clamped to LIMITS_MAX_REPLICAS
        #expect(next(0, 4) == (1, nil))
        #expect(next(3, 3) == (3, nil))
        #expect(next(1, 3, 200) == (3, nil))
        #expect(next(5, 1, 100, cap: 10) == (1, nil))
    }

    @Test func gateWaitsForStabilityThenRespectsCooldown() {
        let start = Date(timeIntervalSince1970: 1000)
        var entry: NFRGateEntry?
        func check(_ target: Int, at offset: TimeInterval, seed: Date? = nil) -> NFRGateVerdict {
            let (verdict, updated) = NFRGate.evaluate(entry, target: target, now: start + offset, stability: .seconds(60),
                                                      cooldownSeed: seed)
            entry = updated
            return verdict
        }
        #expect(check(3, at: 0) == .unstable(changed: true))
        #expect(check(3, at: 30) == .unstable(changed: false))
        #expect(check(4, at: 40) == .unstable(changed: true))  // changed: the clock restarts
        #expect(check(4, at: 90) == .unstable(changed: false))
        #expect(check(4, at: 100) == .ready)
        entry?.cooldownUntil = start + 220
        #expect(check(5, at: 150) == .cooldown(until: start + 220))
        #expect(check(4, at: 221) == .ready)  // unchanged target after the cooldown
        // A new leader honours a cooldown recorded in the status.
        entry = nil
        #expect(check(4, at: 0, seed: start + 50) == .cooldown(until: start + 50))
    }

    // MARK: Queries

    @Test func defaultQueriesAreTheSpecStrings() {
        let child = "cart-1a2b3c4d-fn-cart-add"
        #expect(NFRQueries.queries(template: "cloud", namespace: "oaas-1", child: child)
            == NFRFixtures.queries(child))
        #expect(NFRQueries.queries(template: "dev", namespace: "oaas-1", child: child) == NFRFixtures.queries(child))
        let knative = NFRQueries.queries(template: "knative", namespace: "oaas-1", child: child)
        #expect(knative.rps
            == #"sum(rate(activator_request_count{namespace_name="oaas-1",configuration_name="cart-1a2b3c4d-fn-cart-add"}[1m]))"#)
        #expect(knative.p99
            == #"1000*max(histogram_quantile(0.99, sum(rate(activator_request_latencies_bucket{namespace_name="oaas-1",configuration_name="cart-1a2b3c4d-fn-cart-add"}[1m])) by (revision_name,le)))"#)
        #expect(knative.cpu == NFRFixtures.queries(child).cpu)
        #expect(knative.memory == NFRFixtures.queries(child).memory)
    }

    @Test func overridesUseThePlaceholders() {
        let queries = NFRQueries.queries(
            template: "knative", namespace: "ns", child: "c",
            overrides: ["rps": #"my_rps{ns="{namespace}",svc="{name}"}"#, "mem": #"m{pod=~"{pod_regex}"}"#])
        #expect(queries.rps == #"my_rps{ns="ns",svc="c"}"#)
        #expect(queries.memory == #"m{pod=~"c-.*"}"#)
        #expect(queries.p99.contains("activator_request_latencies_bucket"))
    }

    @Test func queryParametersArePercentEncoded() {
        #expect(PrometheusClient.formEncode(#"a+b{x="y",z=~"w-.*"} [1m]"#)
            == "a%2Bb%7Bx%3D%22y%22%2Cz%3D~%22w-.%2A%22%7D%20%5B1m%5D")
        #expect(PrometheusDuration.parse("10m") == .seconds(600))
        #expect(PrometheusDuration.parse("250ms") == .milliseconds(250))
        #expect(PrometheusDuration.parse("10x") == nil)
    }

    // MARK: Prometheus answers

    @Test func resultsKeepOnlyFiniteSamples() throws {
        let matrix = #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"],[2,"NaN"],[3,"4"]]},{"metric":{},"values":[[1,"+Inf"]]}]}}"#
        #expect(try PrometheusResult.series(from: Data(matrix.utf8)) == [[2, 4]])
        let vector = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"7.5"]}]}}"#
        #expect(try PrometheusResult.series(from: Data(vector.utf8)) == [[7.5]])
        let scalar = #"{"status":"success","data":{"resultType":"scalar","result":[1,"3"]}}"#
        #expect(try PrometheusResult.series(from: Data(scalar.utf8)) == [[3]])
        let error = #"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#
        #expect(throws: PrometheusError.api(errorType: "bad_data", message: "parse error at char 3")) {
            try PrometheusResult.series(from: Data(error.utf8))
        }
        #expect(throws: PrometheusError.self) { try PrometheusResult.series(from: Data("<html>".utf8)) }
    }

    // MARK: Status shape

    @Test func recommendationsHaveTheReferenceShapePlusFunctions() throws {
        let set = NFRRecommendationSet([
            ("Cart.add", NFRRecommendation(replicas: 3, cpuMillis: 1560, memoryBytes: 120, confidence: 0.8)),
            ("Cart.idle", NFRRecommendation()),
            ("Cart.total", NFRRecommendation(memoryBytes: 64)),
        ])
        let json = try #require(set.json)
        #expect(json["replicas"] == .int(3))
        #expect(json["cpu"] == .int(1560))
        #expect(json["memory"] == .int(120))
        #expect(json["confidence"] == nil)
        #expect(json.value(at: "functions", "Cart.add", "confidence") == .double(0.8))
        #expect(json.value(at: "functions", "Cart.total") == ["memory": 64])
        #expect(json.value(at: "functions", "Cart.idle") == nil)
        let parsed = NFRRecommendationSet.parse(json, firstFunction: "Cart.add")
        #expect(parsed["Cart.add"]?.replicas == 3)
        #expect(parsed["Cart.total"] == NFRRecommendation(memoryBytes: 64))
        // The reference shape alone belongs to the first function; a float replica count is accepted when whole.
        #expect(NFRRecommendationSet.parse(["replicas": .double(3.0), "cpu": 100], firstFunction: "F")
            == ["F": NFRRecommendation(replicas: 3, cpuMillis: 100)])
        #expect(NFRRecommendationSet([("F", NFRRecommendation())]).json == nil)
    }

    @Test func mergeDiffRemovesStaleKeys() {
        let old: JSONValue = ["replicas": 2, "functions": ["A": ["replicas": 2], "B": ["cpu": 5]]]
        let new: JSONValue = ["replicas": 3, "functions": ["A": ["replicas": 3]]]
        #expect(JSONMergeDiff.patch(from: old, to: new)
            == ["replicas": 3, "functions": ["A": ["replicas": 3], "B": .null]])
        #expect(JSONMergeDiff.patch(from: old, to: old) == nil)
        #expect(JSONMergeDiff.patch(from: old, to: nil) == .null)
        #expect(JSONMergeDiff.patch(from: nil, to: nil) == nil)
    }

    @Test func quantitiesCompareByValue() {
        #expect(KubeQuantity.millicores("100m") == 100)
        #expect(KubeQuantity.millicores("0.5") == 500)
        #expect(KubeQuantity.millicores("2") == 2000)
        #expect(KubeQuantity.bytes("128Mi") == 134_217_728)
        #expect(KubeQuantity.bytes("1G") == 1_000_000_000)
        #expect(KubeQuantity.bytes("1e3") == 1000)
        #expect(KubeQuantity.bytes("lots") == nil)
        #expect(KubeQuantity.bytes("12Qi") == nil)
        #expect(NFRMath.ceilInt(1_000_000_000.3) == 1_000_000_001)
        #expect(NFRMath.ceilInt(.nan) == nil)
    }

    @Test func equalRequestsInOtherUnitsAreNoChange() throws {
        var workload = NFRWorkload(namespace: "ns", child: "fn")
        workload.deployment = try KubeObject(json: [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "fn"],
            "spec": ["replicas": 2, "template": ["spec": ["containers": [
                ["name": "function", "image": "i", "resources": ["requests": ["cpu": "0.65", "memory": "128Mi"]]],
            ]]]],
        ])
        #expect(try workload.plan(.cpu, target: 650, maxReplicas: 20, maxDeltaPercent: 30)?.changes == false)
        #expect(try workload.plan(.memory, target: 134_217_728, maxReplicas: 20, maxDeltaPercent: 30)?.changes == false)
        #expect(try workload.plan(.replicas, target: 2, maxReplicas: 20, maxDeltaPercent: 30)?.changes == false)
        let cpu = try #require(try workload.plan(.cpu, target: 700, maxReplicas: 20, maxDeltaPercent: 30))
        #expect(cpu.current == 650)
        // Not owned by the enforcer yet: the body carries only the new request.
        #expect(cpu.object.spec == ["template": ["spec": ["containers": [
            ["name": "function", "resources": ["requests": ["cpu": "700m"]]],
        ]]]])
        #expect(try NFRWorkload(namespace: "ns", child: "none").plan(.replicas, target: 3, maxReplicas: 20,
                                                                    maxDeltaPercent: 30) == nil)
    }

    // MARK: Ownership and the reconciler's enforced fields

    @Test func enforcerOwnershipComesFromManagedFields() throws {
        let deployment = try KubeObject(json: [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "d", "managedFields": [
                ["manager": "oprc-crm", "operation": "Apply", "fieldsV1": ["f:spec": ["f:template": [:]]]],
                ["manager": "oprc-crm-enforcer", "operation": "Apply", "fieldsV1": ["f:spec": [
                    "f:replicas": [:],
                    "f:template": ["f:spec": ["f:containers": [#"k:{"name": "function"}"#: [
                        ".": [:], "f:name": [:], "f:resources": ["f:requests": ["f:cpu": [:]]],
                    ]]]],
                ]]],
            ]],
        ])
        #expect(NFRWorkload.enforcerOwned(deployment: deployment, hpa: nil, knative: nil) == [.replicas, .cpu])
        #expect(NFRWorkload.enforcerOwned(deployment: nil, hpa: nil, knative: nil).isEmpty)

        let runtime = NFRFixtures.runtime(name: "cart", dimensions: ["replicas", "memory"])
        let child = CRMNames.functionChild(cr: "cart", functionKey: NFRFixtures.functionKey)
        let lookup: (KubeResource, String) -> KubeObject? = { resource, name in
            resource == .deployments && name == child ? deployment : nil
        }
        // cpu is owned but not an enforced dimension of this CR: the reconciler takes it back.
        #expect(NFREnforcedFields.derive(runtime, enforcementEnabled: true, lookup: lookup)
            == [EnforcedField(functionKey: NFRFixtures.functionKey, dimension: "replicas")])
        #expect(NFREnforcedFields.derive(runtime, enforcementEnabled: false, lookup: lookup).isEmpty)
        #expect(NFREnforcedFields.derive(NFRFixtures.runtime(name: "cart", mode: "observe"), enforcementEnabled: true,
                                         lookup: lookup).isEmpty)
    }

    @Test func statusAloneDoesNotMakeAFieldEnforced() {
        // Omitting a field oprc-crm still owns would delete it: only the enforcer's ownership counts.
        var runtime = NFRFixtures.runtime(name: "cart", dimensions: ["replicas", "memory"])
        runtime.status = ClassRuntimeStatus(lastAppliedRecommendations: [
            .init(component: "function", dimension: "memory", target: 1000, basis: "enforcer", confidence: 1),
        ])
        #expect(NFREnforcedFields.derive(runtime, enforcementEnabled: true) { _, _ in nil }.isEmpty)
    }

    @Test func enforcementDimensionsDefaultToReplicas() {
        #expect(NFRFixtures.runtime(dimensions: []).enforcementDimensions == [.replicas])
        #expect(NFRFixtures.runtime(dimensions: ["Memory", "cpu", "disk"]).enforcementDimensions == [.cpu, .memory])
        #expect(NFRFixtures.runtime(mode: nil).enforcementMode == "observe")
        #expect(NFRFixtures.runtime(mode: "ENFORCE").enforcementMode == "enforce")
    }

    // MARK: Feature flag

    @Test func issueFlagNameWinsOverTheSpecName() throws {
        #expect(try NFRFeatureFlag.resolve(environment: [:], current: false) == false)
        #expect(try NFRFeatureFlag.resolve(environment: [:], current: true) == true)
        #expect(try NFRFeatureFlag.resolve(environment: ["OPRC_CRM_FEATURES_ENFORCEMENT": "true"], current: false))
        #expect(try !NFRFeatureFlag.resolve(environment: ["OPRC_CRM_FEATURES_ENFORCEMENT": "off",
                                                          "OPRC_CRM_FEATURES_NFR_ENFORCEMENT": "true"], current: true))
        let error = #expect(throws: ConfigurationError.self) {
            try NFRFeatureFlag.resolve(environment: ["OPRC_CRM_FEATURES_ENFORCEMENT": "maybe"], current: false)
        }
        #expect(error?.problems.first?.hasPrefix("OPRC_CRM_FEATURES_ENFORCEMENT:") == true)
        // The spec's name still works through CRMConfig.
        let config = CRMHarness.config(["OPRC_CRM_FEATURES_NFR_ENFORCEMENT": "true"])
        #expect(try NFRFeatureFlag.resolve(environment: [:], current: config.nfrEnforcementEnabled))
    }

    @Test func theRoleRunsBothTasksByDefault() {
        #expect(CRMRole.nfrLeaderTasks.map(\.name) == ["nfr-analyzer", "nfr-enforcer"])
    }
}
