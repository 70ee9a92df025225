import Foundation
import GRPCCore
import Kube
import KubeTestServer
import OaaSProto
import Testing

@testable import CRM

/// The controller against a KubeTestServer, driven through Deploy like PM would (control-plane spec §9.4–§9.6).
@Suite("CRM controller", .serialized)
struct ControllerReconcileTests {
    static let name = "cart-1a2b3c4d"

    /// A role (no leader election) with its services running for the duration of `body`.
    private func withController<T: Sendable>(
        _ env: [String: String] = [:], _ tweak: @escaping (inout CRMConfig) -> Void = { _ in },
        _ body: (KubeTestServer, KubeClient, DeploymentService) async throws -> T
    ) async throws -> T {
        try await CRMHarness.withServer { server, client in
            let role = CRMRole(config: CRMHarness.config(env, tweak), client: client, logger: CRMHarness.quietLogger())
            let service = DeploymentService(context: role.serviceContext)
            return try await CRMHarness.running(role) {
                try await body(server, client, service)
            }
        }
    }

    private func deploy(_ service: DeploymentService, _ unit: Oaas_Deployment_DeploymentUnit = CRMHarness.unit(),
                        correlationId: String = "corr-test") async throws -> String {
        try await service.deploy(
            request: ServerRequest(metadata: crmMetadata(correlationId: correlationId),
                                   message: CRMHarness.deployRequest(unit)),
            context: crmServerContext("Deploy")).message.message
    }

    private func deployments(_ server: KubeTestServer, _ owner: String = name) -> [String] {
        CRMHarness.owned(server, "deployments.apps", owner: owner).sorted()
    }

    /// Waits until the runtime's function Deployments and its ODGM StatefulSet exist.
    private func waitForWorkloads(_ server: KubeTestServer, functions: Int = 1, owner: String = name) async throws {
        try await CRMHarness.eventually(.seconds(10), "\(functions) function Deployment(s) and the ODGM StatefulSet") {
            deployments(server, owner).count == functions
                && CRMHarness.owned(server, "statefulsets.apps", owner: owner).count == 1
        }
    }

    private func trueConditions(_ server: KubeTestServer, _ owner: String = name) -> [String] {
        (CRMHarness.runtime(server, owner)?.value(at: "status", "conditions")?.arrayValue ?? [])
            .filter { $0["status"]?.stringValue == "True" }
            .compactMap { $0["type"]?.stringValue }
    }

    // MARK: Happy path

    @Test func childrenAppearThenTheRuntimeBecomesAvailable() async throws {
        try await withController { server, _, service in
            #expect(try await deploy(service) == "created")
            try await waitForWorkloads(server)
            let functionDeployment = try #require(deployments(server).first)
            let object = try #require(CRMHarness.object(server, "deployments.apps", functionDeployment))
            #expect(object.value(at: "metadata", "labels", "app.kubernetes.io/managed-by")?.stringValue == "oaas-crm")
            #expect(object.value(at: "metadata", "ownerReferences")?.arrayValue?.first?["name"]?.stringValue == Self.name)
            #expect(object.value(at: "metadata", "annotations", "oaas.io/applied-hash") != nil)
            let services = CRMHarness.owned(server, "services", owner: Self.name)
            #expect(services.count >= 2)  // function Service + ODGM Services

            // Not ready yet: progressing (or applying), never available, exactly one True condition.
            try await CRMHarness.eventually(.seconds(5), "a progressing phase") {
                ["applying", "progressing"].contains(CRMHarness.phase(server, Self.name) ?? "")
            }
            #expect(trueConditions(server) == ["Progressing"])

            try CRMHarness.markWorkloadsReady(server, owner: Self.name)
            try await CRMHarness.eventually(.seconds(10), "phase available") {
                CRMHarness.phase(server, Self.name) == "available"
            }
            let status = try #require(CRMHarness.runtime(server, Self.name)?["status"])
            #expect(trueConditions(server) == ["Available"])
            #expect(status["conditions"]?.arrayValue?.count == 3)
            #expect(status["ready"]?.stringValue == "2/2")
            #expect(status["observed_generation"]?.intValue == CRMHarness.runtime(server, Self.name)?
                .value(at: "metadata", "generation")?.intValue)
            #expect(status["template"]?.stringValue == "dev")
            #expect(status["template_source"]?.stringValue == "profile")
            let refs = status["resource_refs"]?.arrayValue ?? []
            #expect(refs.count == CRMHarness.owned(server, "deployments.apps", owner: Self.name).count
                + CRMHarness.owned(server, "statefulsets.apps", owner: Self.name).count + services.count)
            #expect(refs.allSatisfy { $0["uid"]?.stringValue?.isEmpty == false })
            #expect(status["functions"]?.arrayValue?.first?["ready"]?.boolValue == true)
            #expect(status["progressing_since"] == nil)

            let applied = CRMHarness.events(server, reason: "Applied")
            #expect(applied.count == 1)
            #expect(applied.first?.value(at: "metadata", "annotations", "oaas.io/correlation-id")?.stringValue == "corr-test")
            #expect(applied.first?.value(at: "involvedObject", "name")?.stringValue == Self.name)
            #expect(applied.first?["reportingComponent"]?.stringValue == "oaas.io/crm")
            try await CRMHarness.eventually(.seconds(5), "an Available event") {
                CRMHarness.events(server, reason: "Available").count == 1
            }
        }
    }

    @Test func steadyStateMakesNoWritesAndNoEventStorm() async throws {
        try await withController { server, client, service in
            _ = try await deploy(service)
            try await waitForWorkloads(server)
            try CRMHarness.markWorkloadsReady(server, owner: Self.name)
            try await CRMHarness.eventually(.seconds(10), "available") { CRMHarness.phase(server, Self.name) == "available" }
            try await CRMHarness.eventually(.seconds(5), "the Available event") {
                !CRMHarness.events(server, reason: "Available").isEmpty
            }
            let eventsBefore = CRMHarness.events(server).map { ($0.value(at: "metadata", "name")?.stringValue ?? "", $0["count"]?.intValue ?? 0) }
            let transitionBefore = CRMHarness.condition(server, Self.name, "Available")?["lastTransitionTime"]
            server.clearRecordedRequests()

            // Repeated Deploys (annotation changes) and child status churn all trigger reconciles.
            for index in 0..<5 {
                _ = try await deploy(service, correlationId: "again-\(index)")
                try CRMHarness.markWorkloadsReady(server, owner: Self.name)
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(500))
            let childWrites = server.recordedRequests().filter {
                $0.method != "GET" && !$0.path.contains("classruntimes") && !$0.path.contains("/events")
            }
            #expect(childWrites.isEmpty, "\(childWrites.map { "\($0.method) \($0.path)" })")
            let statusWrites = server.recordedRequests().filter { $0.method == "PATCH" && $0.path.hasSuffix("/status") }
            #expect(statusWrites.isEmpty)
            let eventsAfter = CRMHarness.events(server).map { ($0.value(at: "metadata", "name")?.stringValue ?? "", $0["count"]?.intValue ?? 0) }
            #expect(eventsAfter.map(\.0) == eventsBefore.map(\.0))
            #expect(eventsAfter.map(\.1) == eventsBefore.map(\.1))
            #expect(CRMHarness.condition(server, Self.name, "Available")?["lastTransitionTime"] == transitionBefore)
            #expect(CRMHarness.phase(server, Self.name) == "available")
            _ = client
        }
    }

    // MARK: Drift and updates

    @Test func aDeletedChildIsRecreated() async throws {
        try await withController { server, client, service in
            _ = try await deploy(service)
            try await waitForWorkloads(server)
            let child = try #require(deployments(server).first)
            let firstUID = CRMHarness.object(server, "deployments.apps", child)?.value(at: "metadata", "uid")
            try await client.delete(.deployments, namespace: CRMHarness.namespace, name: child)
            try await CRMHarness.eventually(.seconds(10), "the Deployment re-created") {
                guard let uid = CRMHarness.object(server, "deployments.apps", child)?.value(at: "metadata", "uid") else {
                    return false
                }
                return uid != firstUID
            }
        }
    }

    @Test func updatesApplyInPlaceAndRemovedFunctionsLeaveNoOrphans() async throws {
        try await withController { server, _, service in
            let two = CRMHarness.unit(functions: [(key: "Cart.add", image: "r/add:1"), (key: "Cart.total", image: "r/total:1")])
            _ = try await deploy(service, two)
            try await waitForWorkloads(server, functions: 2)
            let totalName = try #require(deployments(server).first { $0.contains("total") })
            let addName = try #require(deployments(server).first { $0.contains("add") })
            let addUID = CRMHarness.object(server, "deployments.apps", addName)?.value(at: "metadata", "uid")

            // Change one image and drop the other function.
            #expect(try await deploy(service, CRMHarness.unit(functions: [(key: "Cart.add", image: "r/add:2")])) == "updated")
            try await CRMHarness.eventually(.seconds(10), "the removed function's objects deleted") {
                deployments(server) == [addName] && CRMHarness.object(server, "services", totalName) == nil
            }
            #expect(CRMHarness.object(server, "services", addName) != nil)
            let add = try #require(CRMHarness.object(server, "deployments.apps", addName))
            #expect(add.value(at: "metadata", "uid") == addUID)  // updated in place
            let image = add.value(at: "spec", "template", "spec", "containers")?.arrayValue?.first?["image"]?.stringValue
            #expect(image == "r/add:2")
            #expect(CRMHarness.object(server, "deployments.apps", totalName) == nil)
            try await CRMHarness.eventually(.seconds(5), "OrphanDeleted events for the Deployment and the Service") {
                CRMHarness.events(server, reason: "OrphanDeleted").count >= 2
            }
        }
    }

    // MARK: Degraded causes

    @Test func crashLoopingAndUnpullablePodsDegrade() async throws {
        try await withController { server, client, service in
            _ = try await deploy(service)
            try await waitForWorkloads(server)
            let child = try #require(deployments(server).first)
            try await createPod(server, client, "\(child)-abc", app: child, waiting: "CrashLoopBackOff", restarts: 6)
            try await CRMHarness.eventually(.seconds(10), "Degraded CrashLoop") {
                CRMHarness.condition(server, Self.name, "Degraded")?["reason"]?.stringValue == "CrashLoop"
            }
            #expect(CRMHarness.phase(server, Self.name) == "degraded")
            #expect(trueConditions(server) == ["Degraded"])
            try await CRMHarness.eventually(.seconds(5), "a Degraded warning event") {
                CRMHarness.events(server, reason: "Degraded").contains {
                    $0["message"]?.stringValue?.hasPrefix("CrashLoop") == true && $0["type"]?.stringValue == "Warning"
                }
            }

            try await client.delete(.pods, namespace: CRMHarness.namespace, name: "\(child)-abc")
            try await createPod(server, client, "\(child)-def", app: child, waiting: "ImagePullBackOff")
            try await CRMHarness.eventually(.seconds(10), "Degraded ImagePullFailed") {
                CRMHarness.condition(server, Self.name, "Degraded")?["reason"]?.stringValue == "ImagePullFailed"
            }

            // The cause clears: available again.
            try await client.delete(.pods, namespace: CRMHarness.namespace, name: "\(child)-def")
            try CRMHarness.markWorkloadsReady(server, owner: Self.name)
            try await CRMHarness.eventually(.seconds(10), "available after recovery") {
                CRMHarness.phase(server, Self.name) == "available"
            }
            #expect(trueConditions(server) == ["Available"])
        }
    }

    @Test func notReadyPastTheProgressDeadlineIsTimeout() async throws {
        try await withController([:], { $0.timings.progressDeadline = .seconds(1) }) { server, _, service in
            _ = try await deploy(service)
            try await CRMHarness.eventually(.seconds(10), "Degraded Timeout") {
                CRMHarness.condition(server, Self.name, "Degraded")?["reason"]?.stringValue == "Timeout"
            }
            #expect(CRMHarness.phase(server, Self.name) == "degraded")
            #expect(CRMHarness.runtime(server, Self.name)?.value(at: "status", "progressing_since") != nil)
            try CRMHarness.markWorkloadsReady(server, owner: Self.name)
            try await CRMHarness.eventually(.seconds(10), "available once ready") {
                CRMHarness.phase(server, Self.name) == "available"
            }
        }
    }

    @Test func aRenderErrorIsTemplateErrorWithoutApplying() async throws {
        // No ODGM image anywhere: ODGM cannot be rendered.
        try await withController(["OAAS_IMAGE": ""]) { server, _, service in
            _ = try await deploy(service)
            try await CRMHarness.eventually(.seconds(10), "Degraded TemplateError") {
                CRMHarness.condition(server, Self.name, "Degraded")?["reason"]?.stringValue == "TemplateError"
            }
            #expect(deployments(server).isEmpty)
            #expect(CRMHarness.runtime(server, Self.name)?.value(at: "status", "message")?.stringValue?.contains("OAAS_IMAGE") == true)
        }
    }

    // MARK: An API server that answers 409 / 422 / 500

    @Test func apiServerFaultsBecomeDegradedReasonsOrRetries() async throws {
        try await withController { server, _, service in
            server.injectFault(KubeFault(method: "PATCH", pathContains: "/deployments/", code: 422,
                                         message: "spec.template.spec.containers[0].image: Required value"))
            _ = try await deploy(service)
            try await CRMHarness.eventually(.seconds(10), "Degraded ApplyInvalid") {
                CRMHarness.condition(server, Self.name, "Degraded")?["reason"]?.stringValue == "ApplyInvalid"
            }
            #expect(CRMHarness.runtime(server, Self.name)?.value(at: "status", "message")?.stringValue?
                .contains("Required value") == true)

            server.clearFaults()
            server.injectFault(KubeFault(method: "PATCH", pathContains: "/deployments/", code: 409))
            try await CRMHarness.eventually(.seconds(10), "Degraded Conflict") {
                CRMHarness.condition(server, Self.name, "Degraded")?["reason"]?.stringValue == "Conflict"
            }
            server.clearFaults()
            server.injectFault(KubeFault(method: "PATCH", pathContains: "/deployments/", code: 403))
            try await CRMHarness.eventually(.seconds(10), "Degraded Forbidden") {
                CRMHarness.condition(server, Self.name, "Degraded")?["reason"]?.stringValue == "Forbidden"
            }

            // 500s are retried with the phase left alone, then the apply goes through.
            server.clearFaults()
            server.injectFault(KubeFault(method: "PATCH", pathContains: "/deployments/", code: 500, times: 3))
            try await CRMHarness.eventually(.seconds(10), "the Deployment applied after the 500s") {
                deployments(server).count == 1
            }
            #expect(server.activeFaults.isEmpty)
            try CRMHarness.markWorkloadsReady(server, owner: Self.name)
            try await CRMHarness.eventually(.seconds(10), "available") { CRMHarness.phase(server, Self.name) == "available" }

            // A failing status subresource does not take the controller down either.
            server.injectFault(KubeFault(method: "PATCH", pathContains: "/status", code: 500, times: 2))
            _ = try await deploy(service, CRMHarness.unit(image: "r/add:9"))
            try await CRMHarness.eventually(.seconds(10), "status written after the failures") {
                CRMHarness.runtime(server, Self.name)?.value(at: "status", "observed_generation")?.intValue
                    == CRMHarness.runtime(server, Self.name)?.value(at: "metadata", "generation")?.intValue
            }
        }
    }

    @Test func aKindThatCannotBeListedDoesNotStallTheController() async throws {
        try await CRMHarness.withServer { server, client in
            // RBAC forgot PodDisruptionBudgets: every list/watch of them is refused.
            server.injectFault(KubeFault(method: "GET", pathContains: "/poddisruptionbudgets", code: 403))
            let role = CRMRole(config: CRMHarness.config(), client: client, logger: CRMHarness.quietLogger())
            try await CRMHarness.running(role) {
                _ = try await deploy(DeploymentService(context: role.serviceContext))
                try await waitForWorkloads(server)
            }
        }
    }

    // MARK: Discovery

    @Test func routerServicesAreDiscovered() async throws {
        try await withController { server, client, service in
            var router = KubeObject(.services, name: "oaas-router", namespace: CRMHarness.namespace)
            router.labels = ["app": "router", "platform": "oaas"]
            router.spec = ["ports": [["name": "grpc", "port": 17447]], "selector": ["app": "router"]]
            try await client.create(.services, router)
            _ = try await deploy(service)
            try await CRMHarness.eventually(.seconds(10), "status.routers") {
                CRMHarness.runtime(server, Self.name)?.value(at: "status", "routers")?.arrayValue?.first?["service"]?
                    .stringValue == "oaas-router"
            }
            try await CRMHarness.eventually(.seconds(10), "router URL in the function env") {
                guard let name = deployments(server).first,
                      let env = CRMHarness.object(server, "deployments.apps", name)?
                        .value(at: "spec", "template", "spec", "containers")?.arrayValue?.first?["env"]?.arrayValue
                else { return false }
                return env.contains {
                    $0["name"]?.stringValue == "OPRC_ROUTER_URL"
                        && $0["value"]?.stringValue == "http://oaas-router.\(CRMHarness.namespace).svc.cluster.local:17447"
                }
            }
        }
    }

    @Test func knativeTemplateRendersAKnativeServiceInsteadOfADeployment() async throws {
        try await CRMHarness.withServer { server, client in
            try server.registerCustomResource(group: "serving.knative.dev", version: "v1", kind: "Service",
                                              plural: "services")
            let role = CRMRole(config: CRMHarness.config(), client: client, logger: CRMHarness.quietLogger())
            let service = DeploymentService(context: role.serviceContext)
            try await CRMHarness.running(role) {
                try await CRMHarness.eventually(.seconds(5), "knative discovered") { role.discovery.knativeAvailable }
                var unit = CRMHarness.unit()
                unit.selectedTemplate = "knative"
                _ = try await deploy(service, unit)
                try await CRMHarness.eventually(.seconds(10), "a Knative Service") {
                    !CRMHarness.owned(server, "services.serving.knative.dev", owner: Self.name).isEmpty
                }
                try await CRMHarness.eventually(.seconds(10), "the ODGM StatefulSet and status.template") {
                    CRMHarness.owned(server, "statefulsets.apps", owner: Self.name).count == 1
                        && CRMHarness.runtime(server, Self.name)?.value(at: "status", "template")?.stringValue == "knative"
                }
                #expect(deployments(server).isEmpty)
                // Knative reports Ready with a URL: the function becomes ready with its observed URL.
                let knativeName = try #require(CRMHarness.owned(server, "services.serving.knative.dev", owner: Self.name).first)
                try server.mutate("services.serving.knative.dev", namespace: CRMHarness.namespace, name: knativeName) { object in
                    object["status"] = [
                        "observedGeneration": object.value(at: "metadata", "generation") ?? 1,
                        "url": "http://cart.example",
                        "conditions": [["type": "Ready", "status": "True"]],
                    ]
                }
                try CRMHarness.markWorkloadsReady(server, owner: Self.name)
                try await CRMHarness.eventually(.seconds(10), "available") {
                    CRMHarness.phase(server, Self.name) == "available"
                }
                #expect(CRMHarness.runtime(server, Self.name)?.value(at: "status", "functions")?.arrayValue?.first?["observed_url"]?
                    .stringValue == "http://cart.example")
            }
        }
    }

    // MARK: Deletion

    @Test func deletionRemovesChildrenThenTheFinalizer() async throws {
        try await withController { server, client, service in
            _ = try await deploy(service)
            try await waitForWorkloads(server)
            // A data volume of the ODGM StatefulSet.
            var claim = KubeObject(.persistentVolumeClaims, name: "data-\(Self.name)-odgm-0", namespace: CRMHarness.namespace)
            claim.labels = ["oaas.io/owner": Self.name, "app.kubernetes.io/managed-by": "oaas-crm"]
            claim.spec = ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]
            try await client.create(.persistentVolumeClaims, claim)

            var request = Oaas_Deployment_DeleteDeploymentRequest()
            request.deploymentID = Self.name
            _ = try await service.deleteDeployment(request: ServerRequest(metadata: [:], message: request),
                                                   context: crmServerContext("DeleteDeployment"))
            try await CRMHarness.eventually(.seconds(10), "the ClassRuntime gone") {
                CRMHarness.runtime(server, Self.name) == nil
            }
            #expect(deployments(server).isEmpty)
            #expect(CRMHarness.owned(server, "statefulsets.apps", owner: Self.name).isEmpty)
            #expect(CRMHarness.owned(server, "services", owner: Self.name).isEmpty)
            #expect(CRMHarness.owned(server, "persistentvolumeclaims", owner: Self.name).isEmpty)
            #expect(!CRMHarness.events(server, reason: "Deleting").isEmpty)
        }
    }

    @Test func retainedDataKeepsItsVolumes() async throws {
        try await withController(["OPRC_CRM_ODGM_RETAIN_PVC": "true"]) { server, client, service in
            _ = try await deploy(service)
            try await waitForWorkloads(server)
            var claim = KubeObject(.persistentVolumeClaims, name: "data-keep-0", namespace: CRMHarness.namespace)
            claim.labels = ["oaas.io/owner": Self.name, "app.kubernetes.io/managed-by": "oaas-crm"]
            claim.spec = ["accessModes": ["ReadWriteOnce"]]
            try await client.create(.persistentVolumeClaims, claim)
            try await client.delete(.classRuntimes, namespace: CRMHarness.namespace, name: Self.name)
            try await CRMHarness.eventually(.seconds(10), "the ClassRuntime gone") {
                CRMHarness.runtime(server, Self.name) == nil
            }
            #expect(CRMHarness.object(server, "persistentvolumeclaims", "data-keep-0") != nil)
        }
    }

    @Test func childrenThatNeverGoTimeOutTheDeletion() async throws {
        try await withController([:], { $0.timings.deleteTimeout = .seconds(1) }) { server, client, service in
            _ = try await deploy(service)
            try await waitForWorkloads(server)
            // A foreign finalizer keeps the function Deployment around forever.
            let child = try #require(deployments(server).first)
            try server.mutate("deployments.apps", namespace: CRMHarness.namespace, name: child) {
                $0.setValue(["example.com/hold"], at: "metadata", "finalizers")
            }
            try await client.delete(.classRuntimes, namespace: CRMHarness.namespace, name: Self.name)
            try await CRMHarness.eventually(.seconds(10), "the ClassRuntime gone after the timeout") {
                CRMHarness.runtime(server, Self.name) == nil
            }
            #expect(!CRMHarness.events(server, reason: "DeleteTimeout").isEmpty)
        }
    }

    // MARK: Helpers

    /// Creates a pod of `app` whose container waits with `reason` (status set as the kubelet would).
    private func createPod(_ server: KubeTestServer, _ client: KubeClient, _ name: String, app: String,
                           waiting reason: String, restarts: Int64 = 0) async throws {
        var pod = KubeObject(.pods, name: name, namespace: CRMHarness.namespace)
        pod.labels = ["app": app, "oaas.io/owner": Self.name, "app.kubernetes.io/managed-by": "oaas-crm"]
        pod.spec = ["containers": [["name": "function", "image": "r/add:1"]]]
        try await client.create(.pods, pod)
        try server.setStatus("pods", namespace: CRMHarness.namespace, name: name, [
            "containerStatuses": [[
                "name": "function", "restartCount": .int(restarts), "ready": false,
                "state": ["waiting": ["reason": .string(reason), "message": "back-off"]],
            ]],
        ])
    }
}
