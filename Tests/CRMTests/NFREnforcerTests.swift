import Foundation
import Kube
import KubeTestServer
import Testing

@testable import CRM

/// The enforcer against a KubeTestServer (control-plane spec §12 phase 3, §16): stability, cooldown, targets, field
/// ownership, failures, and the reconciler leaving enforced values alone.
@Suite("NFR enforcer", .serialized)
struct NFREnforcerTests {
    static let replicasPath = ["f:spec", "f:replicas"]

    private func config(_ tweak: @escaping (inout CRMConfig) -> Void = { _ in }) -> CRMConfig {
        CRMHarness.config(["OPRC_CRM_FEATURES_NFR_ENFORCEMENT": "true"]) { config in
            config.enforcementStability = .seconds(60)
            config.enforcementCooldown = .seconds(120)
            config.timings.resync = .milliseconds(300)
            tweak(&config)
        }
    }

    /// Runs the real controller (no leader tasks) while `body` runs.
    private func withController<T: Sendable>(_ client: KubeClient, _ config: CRMConfig,
                                             _ body: () async throws -> T) async throws -> T {
        let role = CRMRole(config: config, client: client, logger: CRMHarness.quietLogger())
        return try await CRMHarness.running(role, body)
    }

    /// Waits until the controller has re-applied `path` as `oprc-crm` at least twice since now.
    private func waitForReconcilerApplies(_ server: KubeTestServer, _ path: String) async throws {
        server.clearRecordedRequests()
        try await CRMHarness.eventually(.seconds(10), "two reconciler applies of \(path)") {
            server.recordedRequests().filter {
                $0.method == "PATCH" && $0.path.hasSuffix(path) && $0.query["fieldManager"] == CRMKeys.fieldManager
            }.count >= 2
        }
    }

    @Test func stabilityThenApplyThenCooldownAndTheReconcilerKeepsTheValue() async throws {
        try await CRMHarness.withServer { server, client in
            let config = config()
            let clock = NFRTestClock()
            try await NFRFixtures.seed(client, NFRFixtures.runtime(), config: config,
                                       recommendations: ["functions": [NFRFixtures.functionKey: ["replicas": 5]]])
            let enforcer = NFRFixtures.enforcerPass(client, config: config, clock: clock)
            #expect(NFRFixtures.replicas(server) == 1)

            await enforcer.runOnce()
            #expect(NFRFixtures.messages(server, "NFRSkippedStability")
                == ["replicas target 5 for function Cart.add must hold for 60 s before it is applied"])
            clock.advance(30)
            await enforcer.runOnce()
            #expect(NFRFixtures.replicas(server) == 1)
            #expect(CRMHarness.events(server, reason: "NFRApplied").isEmpty)

            clock.advance(31)
            await enforcer.runOnce()
            // 30 % of 1 replica rounds down to 0: the step is 1.
            #expect(NFRFixtures.replicas(server) == 2)
            #expect(NFRFixtures.messages(server, "NFRApplied") == ["replicas -> 2 (function Cart.add)"])
            let status = try #require(NFRFixtures.status(server))
            let applied = try #require(status["last_applied_recommendations"]?.arrayValue)
            #expect(applied == [["component": "function", "dimension": "replicas", "target": .int(2),
                                 "basis": "enforcer", "confidence": .int(1)]]
                || applied == [["component": "function", "dimension": "replicas", "target": .double(2),
                                "basis": "enforcer", "confidence": .double(1)]])
            #expect(status["last_applied_at"]?.stringValue.flatMap(KubeTime.parse) != nil)
            #expect(CRMHarness.condition(server, NFRFixtures.name, "NfrEnforced")?["status"]?.stringValue == "True")

            clock.advance(10)
            await enforcer.runOnce()
            #expect(NFRFixtures.replicas(server) == 2)
            #expect(NFRFixtures.messages(server, "NFRSkippedCooldown").count == 1)
            #expect(NFRFixtures.messages(server, "NFRSkippedCooldown").first?.hasPrefix("replicas -> 3 (function Cart.add) waits for the cooldown") == true)

            clock.advance(111)
            await enforcer.runOnce()
            #expect(NFRFixtures.replicas(server) == 3)
            let deployment = CRMHarness.object(server, "deployments.apps", NFRFixtures.child)
            #expect(NFRFixtures.owners(deployment, Self.replicasPath) == [CRMKeys.enforcerFieldManager])

            // The real controller, re-applying every child on a 300 ms resync, leaves the enforced count alone.
            try await withController(client, config) {
                try await waitForReconcilerApplies(server, "/deployments/\(NFRFixtures.child)")
                #expect(NFRFixtures.replicas(server) == 3)
                let after = CRMHarness.object(server, "deployments.apps", NFRFixtures.child)
                #expect(NFRFixtures.owners(after, Self.replicasPath) == [CRMKeys.enforcerFieldManager])
                #expect(after?.value(at: "metadata", "labels", "oaas.io/owner")?.stringValue == NFRFixtures.name)
            }
        }
    }

    @Test func withAnHPAMinReplicasIsPatched() async throws {
        try await CRMHarness.withServer { server, client in
            let config = config {
                $0.hpaEnabled = true
                $0.enforcementStability = .zero
                $0.enforcementMaxReplicaDeltaPercent = 200
            }
            let clock = NFRTestClock()
            try await NFRFixtures.seed(client, NFRFixtures.runtime(template: "cloud"), config: config,
                                       recommendations: ["replicas": 3, "cpu": 1500])
            let hpa = { CRMHarness.object(server, "horizontalpodautoscalers.autoscaling", NFRFixtures.child) }
            #expect(hpa()?.value(at: "spec", "minReplicas")?.intValue == 1)
            let enforcer = NFRFixtures.enforcerPass(client, config: config, clock: clock)
            await enforcer.runOnce()
            #expect(hpa()?.value(at: "spec", "minReplicas")?.intValue == 1)
            clock.advance(1)
            await enforcer.runOnce()
            #expect(hpa()?.value(at: "spec", "minReplicas")?.intValue == 3)
            #expect(NFRFixtures.messages(server, "NFRApplied") == ["replicas -> 3 (function Cart.add)"])
            #expect(NFRFixtures.owners(hpa(), ["f:spec", "f:minReplicas"]) == [CRMKeys.enforcerFieldManager])
            // The HPA owns the Deployment's count: the enforcer did not touch it.
            #expect(NFRFixtures.replicas(server) == nil)

            try await withController(client, config) {
                try await waitForReconcilerApplies(server, "/horizontalpodautoscalers/\(NFRFixtures.child)")
                #expect(hpa()?.value(at: "spec", "minReplicas")?.intValue == 3)
                #expect(hpa()?.value(at: "spec", "maxReplicas")?.intValue == 20)
            }
        }
    }

    @Test func requestsAndReplicasOnOneDeploymentAllStick() async throws {
        try await CRMHarness.withServer { server, client in
            let config = config {
                $0.enforcementStability = .zero
                $0.enforcementMaxReplicaDeltaPercent = 100
            }
            let clock = NFRTestClock()
            try await NFRFixtures.seed(
                client, NFRFixtures.runtime(dimensions: ["replicas", "cpu", "memory"]), config: config,
                recommendations: ["functions": [NFRFixtures.functionKey: [
                    "replicas": 2, "cpu": 650, "memory": 134_217_728,
                ]]])
            let enforcer = NFRFixtures.enforcerPass(client, config: config, clock: clock)
            await enforcer.runOnce()
            #expect(NFRFixtures.messages(server, "NFRSkippedStability").count == 3)
            clock.advance(1)
            await enforcer.runOnce()
            let deployment = CRMHarness.object(server, "deployments.apps", NFRFixtures.child)
            let container = deployment?.value(at: "spec", "template", "spec", "containers")?.arrayValue?.first
            // Each apply restated the fields the enforcer already owned, so the later ones did not drop the earlier.
            #expect(deployment?.value(at: "spec", "replicas")?.intValue == 2)
            #expect(container?.value(at: "resources", "requests") == ["cpu": "650m", "memory": "134217728"])
            #expect(container?["image"]?.stringValue == "registry.local/cart.add:1")
            #expect(Set(NFRFixtures.messages(server, "NFRApplied")) == [
                "replicas -> 2 (function Cart.add)", "cpu -> 650 (function Cart.add)",
                "memory -> 134217728 (function Cart.add)",
            ])
            let dimensions = NFRFixtures.status(server)?["last_applied_recommendations"]?.arrayValue?
                .compactMap { $0["dimension"]?.stringValue }
            #expect(dimensions.map(Set.init) == ["replicas", "cpu", "memory"])

            // Reached: nothing is re-applied after the cooldown either.
            clock.advance(600)
            server.clearRecordedRequests()
            await enforcer.runOnce()
            #expect(!server.recordedRequests().contains { $0.query["fieldManager"] == CRMKeys.enforcerFieldManager })

            // The reconciler omits all three fields from its apply.
            try await withController(client, config) {
                try await waitForReconcilerApplies(server, "/deployments/\(NFRFixtures.child)")
                let after = CRMHarness.object(server, "deployments.apps", NFRFixtures.child)
                #expect(after?.value(at: "spec", "replicas")?.intValue == 2)
                #expect(after?.value(at: "spec", "template", "spec", "containers")?.arrayValue?.first?
                    .value(at: "resources", "requests") == ["cpu": "650m", "memory": "134217728"])
            }
        }
    }

    @Test func aValueTheReconcilerOverwroteIsRestoredDespiteTheCooldown() async throws {
        try await CRMHarness.withServer { server, client in
            let config = config {
                $0.enforcementStability = .zero
                $0.enforcementMaxReplicaDeltaPercent = 200
            }
            let clock = NFRTestClock()
            let runtime = NFRFixtures.runtime()
            try await NFRFixtures.seed(client, runtime, config: config, recommendations: ["replicas": 3])
            let enforcer = NFRFixtures.enforcerPass(client, config: config, clock: clock)
            await enforcer.runOnce()
            clock.advance(1)
            await enforcer.runOnce()
            #expect(NFRFixtures.replicas(server) == 3)

            // A stale render applied with force, as a racing resync would.
            let stored = try await NFRFixtures.read(client)
            let rendered = try Renderer.render(stored, context: config.renderContext())
            let deployment = try #require(rendered.children.first { $0.resource == .deployments })
            try await client.apply(.deployments, deployment.object, fieldManager: CRMKeys.fieldManager, force: true)
            #expect(NFRFixtures.replicas(server) == 1)

            clock.advance(1)  // deep inside the 120 s cooldown
            await enforcer.runOnce()
            #expect(NFRFixtures.replicas(server) == 3)
            let after = CRMHarness.object(server, "deployments.apps", NFRFixtures.child)
            #expect(NFRFixtures.owners(after, Self.replicasPath) == [CRMKeys.enforcerFieldManager])
            #expect(CRMHarness.events(server, reason: "NFRApplied").first?["count"]?.intValue == 2)

            // Owned again: nothing more to do.
            server.clearRecordedRequests()
            clock.advance(1)
            await enforcer.runOnce()
            #expect(!server.recordedRequests().contains { $0.query["fieldManager"] == CRMKeys.enforcerFieldManager })
        }
    }

    @Test func failuresAreEventsNotDegraded() async throws {
        try await CRMHarness.withServer { server, client in
            let config = config { $0.enforcementStability = .zero }
            let clock = NFRTestClock()
            try await NFRFixtures.seed(client, NFRFixtures.runtime(), config: config,
                                       recommendations: ["replicas": 2])
            server.injectFault(KubeFault(method: "PATCH", pathContains: "/deployments/",
                                         query: ("fieldManager", CRMKeys.enforcerFieldManager), code: 422,
                                         message: "spec.replicas: Invalid value"))
            let enforcer = NFRFixtures.enforcerPass(client, config: config, clock: clock)
            await enforcer.runOnce()
            clock.advance(1)
            await enforcer.runOnce()
            let failed = NFRFixtures.messages(server, "NFRApplyFailed")
            #expect(failed.count == 1)
            #expect(failed.first?.contains("spec.replicas: Invalid value") == true)
            #expect(CRMHarness.events(server, reason: "NFRApplyFailed").first?["type"]?.stringValue == "Warning")
            let enforced = CRMHarness.condition(server, NFRFixtures.name, "NfrEnforced")
            #expect(enforced?["status"]?.stringValue == "False")
            #expect(enforced?["reason"]?.stringValue == "ApplyFailed")
            #expect(CRMHarness.condition(server, NFRFixtures.name, "Degraded") == nil)
            #expect(NFRFixtures.status(server)?["phase"] == nil)
            #expect(NFRFixtures.replicas(server) == 1)

            // No cooldown after a failure: the next tick succeeds.
            server.clearFaults()
            clock.advance(1)
            await enforcer.runOnce()
            #expect(NFRFixtures.replicas(server) == 2)
            #expect(CRMHarness.condition(server, NFRFixtures.name, "NfrEnforced")?["status"]?.stringValue == "True")
        }
    }

    @Test func observeModeAndKnativeRequestsAreNotApplied() async throws {
        try await CRMHarness.withServer { server, client in
            let config = config { $0.enforcementStability = .zero }
            let clock = NFRTestClock()
            try await NFRFixtures.seed(client, NFRFixtures.runtime(mode: "observe"), config: config,
                                       recommendations: ["replicas": 4])
            let enforcer = NFRFixtures.enforcerPass(client, config: config, clock: clock)
            for _ in 0..<3 {
                await enforcer.runOnce()
                clock.advance(1)
            }
            #expect(NFRFixtures.replicas(server) == 1)
            #expect(NFRFixtures.nfrEventReasons(server).isEmpty)

            // With the feature off the task returns at once.
            var off = config
            off.nfrEnforcementEnabled = false
            try await NFREnforcer().run(context: CRMLeaderContext(client: client, config: off,
                                                                  logger: CRMHarness.quietLogger()))

            // Knative Services: cpu requests are refused (atomic container list), named in the Event.
            var workload = NFRWorkload(namespace: CRMHarness.namespace, child: "svc")
            workload.knative = KubeObject(.knativeServices, name: "svc", namespace: CRMHarness.namespace)
            #expect(throws: NFRUnsupported.self) {
                try workload.plan(.cpu, target: 100, maxReplicas: 20, maxDeltaPercent: 30)
            }
            let plan = try workload.plan(.replicas, target: 2, maxReplicas: 20, maxDeltaPercent: 30)
            #expect(plan?.value == 1)
            #expect(plan?.object.value(at: "spec", "template", "metadata", "annotations",
                                       "autoscaling.knative.dev/minScale") == "1")
        }
    }
}

/// Analyzer, enforcer and controller together in one role, the way `oaas serve --role crm` runs them.
@Suite("NFR end to end", .serialized)
struct NFREndToEndTests {
    private func run(enforcement: Bool, _ body: (KubeTestServer, KubeClient, MockPrometheus) async throws -> Void)
        async throws
    {
        try await MockPrometheus.withRunning { mock in
            try await CRMHarness.withServer { server, client in
                let config = CRMHarness.config([
                    "OPRC_CRM_PROM_URL": mock.url, "OPRC_CRM_FEATURES_NFR_ENFORCEMENT": enforcement ? "true" : "false",
                ]) { config in
                    // Not faster: every analyzer tick writes status, and on a loaded 2-core machine a faster tick
                    // starves the reconciler's own status write of its turn.
                    config.analyzerInterval = .milliseconds(400)
                    config.enforcementStability = .milliseconds(300)
                    config.enforcementCooldown = .seconds(60)
                    config.enforcementMaxReplicaDeltaPercent = 200
                    config.timings.resync = .milliseconds(300)
                }
                // cpu 1500 m at 500 m per pod ⇒ 3 replicas.
                NFRFixtures.script(mock, cpuMillis: [1500])
                let role = CRMRole(config: config, client: client, logger: CRMHarness.quietLogger(),
                                   leaderTasks: CRMRole.nfrLeaderTasks)
                try await CRMHarness.running(role) {
                    try await NFRFixtures.create(client, NFRFixtures.runtime())
                    try await body(server, client, mock)
                }
            }
        }
    }

    @Test func recommendationsAreAppliedAndSurviveReconciles() async throws {
        try await run(enforcement: true) { server, _, _ in
            try await CRMHarness.eventually(.seconds(20), "the Deployment scaled to 3") {
                NFRFixtures.replicas(server) == 3
            }
            #expect(CRMHarness.condition(server, NFRFixtures.name, "NfrObserved")?["reason"]?.stringValue
                == "PrometheusQueryOK")
            #expect(NFRFixtures.status(server)?.value(at: "nfr_recommendations", "replicas") == .int(3))
            try await CRMHarness.eventually(.seconds(5), "the NFRApplied Event") {
                !CRMHarness.events(server, reason: "NFRApplied").isEmpty
            }
            let stability = try #require(CRMHarness.events(server, reason: "NFRSkippedStability").first)
            #expect(stability["message"]?.stringValue
                == "replicas target 3 for function Cart.add must hold for 300 ms before it is applied")
            let applied = try #require(CRMHarness.events(server, reason: "NFRApplied").first)
            #expect(applied["message"]?.stringValue == "replicas -> 3 (function Cart.add)")
            #expect((stability["firstTimestamp"]?.stringValue ?? "") <= (applied["firstTimestamp"]?.stringValue ?? ""))
            try await CRMHarness.eventually(.seconds(15), "NfrEnforced True") {
                CRMHarness.condition(server, NFRFixtures.name, "NfrEnforced")?["status"]?.stringValue == "True"
            }
            // Several resyncs later the reconciler has not reverted it, and the CR's own conditions are intact.
            server.clearRecordedRequests()
            try await CRMHarness.eventually(.seconds(10), "reconciler re-applies") {
                server.recordedRequests().filter {
                    $0.method == "PATCH" && $0.path.hasSuffix("/deployments/\(NFRFixtures.child)")
                        && $0.query["fieldManager"] == CRMKeys.fieldManager
                }.count >= 2
            }
            // A resync racing the enforcer's write can put the rendered count back for one tick; the enforcer then
            // restores it at once, so the count converges to the enforced value.
            try await CRMHarness.eventually(.seconds(10), "3 replicas after the reconciler's applies") {
                NFRFixtures.replicas(server) == 3
            }
            // Analyzer, enforcer and reconciler share the conditions list: each keeps the others' entries.
            try await CRMHarness.eventually(.seconds(20), "all five condition types") {
                let types = NFRFixtures.status(server)?["conditions"]?.arrayValue?.compactMap { $0["type"]?.stringValue }
                return Set(types ?? []) == ["Available", "Progressing", "Degraded", "NfrObserved", "NfrEnforced"]
            }
            #expect(CRMHarness.events(server, reason: "NFRApplied").count == 1)
        }
    }

    @Test func featureOffRecommendsButNeverApplies() async throws {
        try await run(enforcement: false) { server, _, _ in
            try await CRMHarness.eventually(.seconds(10), "a recommendation") {
                NFRFixtures.status(server)?.value(at: "nfr_recommendations", "replicas") == .int(3)
            }
            try await CRMHarness.eventually(.seconds(10), "the Deployment") { NFRFixtures.replicas(server) != nil }
            // Well past stability (300 ms) at a 100 ms tick.
            try await Task.sleep(for: .milliseconds(800))
            #expect(NFRFixtures.replicas(server) == 1)
            #expect(NFRFixtures.nfrEventReasons(server).isEmpty)
            #expect(NFRFixtures.status(server)?["last_applied_recommendations"] == nil)
            #expect(CRMHarness.condition(server, NFRFixtures.name, "NfrEnforced") == nil)
        }
    }
}
