import Foundation
import GRPCCore
import Kube
import KubeTestServer
import OaaSProto
import Testing

@testable import CRM

/// GetDeploymentStatus, GetClassRuntime, ListClassRuntimes, DeleteDeployment, GetEnvHealth and HealthService
/// against a KubeTestServer (control-plane spec §8.3).
@Suite("CRM read, delete and health RPCs", .serialized)
struct ServiceReadTests {
    private func role(_ client: KubeClient, _ env: [String: String] = [:]) -> CRMRole {
        CRMRole(config: CRMHarness.config(env), client: client, logger: CRMHarness.quietLogger())
    }

    private func deploy(_ service: DeploymentService, _ unit: Oaas_Deployment_DeploymentUnit) async throws {
        _ = try await service.deploy(request: ServerRequest(metadata: [:], message: CRMHarness.deployRequest(unit)),
                                     context: crmServerContext("Deploy"))
    }

    private func status(_ service: DeploymentService, _ id: String) async throws
        -> Oaas_Deployment_GetDeploymentStatusResponse
    {
        var request = Oaas_Deployment_GetDeploymentStatusRequest()
        request.deploymentID = id
        return try await service.getDeploymentStatus(request: ServerRequest(metadata: [:], message: request),
                                                     context: crmServerContext("GetDeploymentStatus")).message
    }

    private func list(_ service: DeploymentService, _ configure: (inout Oaas_Deployment_ListClassRuntimesRequest) -> Void)
        async throws -> [String]
    {
        var request = Oaas_Deployment_ListClassRuntimesRequest()
        configure(&request)
        return try await service.listClassRuntimes(request: ServerRequest(metadata: [:], message: request),
                                                   context: crmServerContext("ListClassRuntimes")).message.items.map(\.id)
    }

    private func delete(_ service: DeploymentService, _ id: String) async throws -> String {
        var request = Oaas_Deployment_DeleteDeploymentRequest()
        request.deploymentID = id
        return try await service.deleteDeployment(request: ServerRequest(metadata: [:], message: request),
                                                  context: crmServerContext("DeleteDeployment")).message.message
    }

    @Test func statusOfAFreshRuntimeIsPendingWithTheUnitRebuilt() async throws {
        try await CRMHarness.withServer { server, client in
            let service = DeploymentService(context: role(client).serviceContext)
            do {
                _ = try await status(service, "cart-1a2b3c4d")
                Issue.record("expected NOT_FOUND")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }
            try await deploy(service, CRMHarness.unit())
            let response = try await status(service, "cart-1a2b3c4d")
            #expect(response.status == .ok)
            #expect(response.message == "Pending")
            #expect(response.deployment.packageName == "shop")
            #expect(response.deployment.classKey == "Cart")
            #expect(response.deployment.functions.map(\.functionKey) == ["Cart.add"])
            #expect(response.runtimeStatus.condition == .pending)

            // A status written by the controller shows up in the summary and the references.
            try server.setStatus("classruntimes.oaas.io", namespace: CRMHarness.namespace, name: "cart-1a2b3c4d", [
                "phase": "available", "last_updated": "2025-01-01T00:00:00Z",
                "conditions": [["type": "Available", "status": "True", "reason": "Ready"]],
                "resource_refs": [["kind": "Deployment", "name": "cart-1a2b3c4d-fn-cart-add", "uid": "u-1"]],
            ])
            let available = try await status(service, "cart-1a2b3c4d")
            #expect(available.message == "Available")
            #expect(available.runtimeStatus.condition == .running)
            #expect(available.statusResourceRefs.map(\.name) == ["cart-1a2b3c4d-fn-cart-add"])
            #expect(available.statusResourceRefs.first?.namespace == CRMHarness.namespace)
        }
    }

    @Test func listAppliesEveryFilterSortsAndPages() async throws {
        try await CRMHarness.withServer { server, client in
            let service = DeploymentService(context: role(client).serviceContext)
            try await deploy(service, CRMHarness.unit(id: "c-3", deploymentKey: "c3"))
            try await deploy(service, CRMHarness.unit(id: "a-1", deploymentKey: "a1"))
            var other = CRMHarness.unit(id: "b-2", deploymentKey: "b2")
            other.packageName = "billing"
            other.classKey = "Invoice"
            try await deploy(service, other)
            try server.setStatus("classruntimes.oaas.io", namespace: CRMHarness.namespace, name: "a-1",
                                 ["phase": "available"])

            #expect(try await list(service) { _ in } == ["a-1", "b-2", "c-3"])
            #expect(try await list(service) { $0.packageName = "shop" } == ["a-1", "c-3"])
            #expect(try await list(service) { $0.classKey = "billing.Invoice" } == ["b-2"])
            #expect(try await list(service) { $0.classKey = "Cart" } == ["a-1", "c-3"])
            #expect(try await list(service) { $0.status = "running" } == ["a-1"])
            #expect(try await list(service) { $0.status = "Pending" } == ["b-2", "c-3"])
            #expect(try await list(service) { $0.targetEnv = CRMHarness.namespace } == ["a-1", "b-2", "c-3"])
            #expect(try await list(service) { $0.targetEnv = "elsewhere" } == [])
            #expect(try await list(service) { $0.offset = 1 } == ["b-2", "c-3"])
            #expect(try await list(service) {
                $0.offset = 1
                $0.limit = 1
            } == ["b-2"])
            #expect(try await list(service) { $0.limit = 0 } == ["a-1", "b-2", "c-3"])
        }
    }

    @Test func getClassRuntimeAnswersTheSummaryOrNotFound() async throws {
        try await CRMHarness.withServer { _, client in
            let service = DeploymentService(context: role(client).serviceContext)
            try await deploy(service, CRMHarness.unit())
            var request = Oaas_Deployment_GetClassRuntimeRequest()
            request.deploymentID = "cart-1a2b3c4d"
            let summary = try await service.getClassRuntime(request: ServerRequest(metadata: [:], message: request),
                                                            context: crmServerContext("GetClassRuntime")).message
            #expect(summary.deployment.id == "cart-1a2b3c4d")
            #expect(summary.deployment.packageName == "shop")
            #expect(summary.deployment.partitionCount == 1)
            request.deploymentID = "missing-1"
            await #expect(throws: RPCError.self) {
                _ = try await service.getClassRuntime(request: ServerRequest(metadata: [:], message: request),
                                                      context: crmServerContext("GetClassRuntime"))
            }
        }
    }

    @Test func deleteIsBackgroundAndIdempotentThenNotFound() async throws {
        try await CRMHarness.withServer { server, client in
            let service = DeploymentService(context: role(client).serviceContext)
            try await deploy(service, CRMHarness.unit())
            server.clearRecordedRequests()
            #expect(try await delete(service, "cart-1a2b3c4d") == "deleting")
            let request = server.recordedRequests().first { $0.method == "DELETE" }
            #expect(request?.path.hasSuffix("/classruntimes/cart-1a2b3c4d") == true)
            // The finalizer holds it (no controller here): a second delete is still fine.
            #expect(try await delete(service, "cart-1a2b3c4d") == "deleting")
            #expect(CRMHarness.runtime(server, "cart-1a2b3c4d")?.value(at: "metadata", "deletionTimestamp") != nil)
            #expect(try await status(service, "cart-1a2b3c4d").message == "Deleting")
            server.remove("classruntimes.oaas.io", namespace: CRMHarness.namespace, name: "cart-1a2b3c4d")
            do {
                _ = try await delete(service, "cart-1a2b3c4d")
                Issue.record("expected NOT_FOUND")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }
        }
    }

    // MARK: GetEnvHealth

    private func node(_ name: String, ready: Bool) -> KubeObject {
        var node = KubeObject(CrmInfoService.nodes, name: name)
        node.status = ["conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]]]
        return node
    }

    private func envHealth(_ role: CRMRole) async throws -> Oaas_Health_CrmEnvHealth {
        let info = CrmInfoService(context: role.serviceContext)
        return try await info.getEnvHealth(request: ServerRequest(metadata: [:], message: Oaas_Health_CrmEnvRequest()),
                                           context: crmServerContext("GetEnvHealth")).message
    }

    @Test func envHealthCountsReadyNodes() async throws {
        try await CRMHarness.withServer { server, client in
            let crm = role(client, ["OPRC_CRM_ENV_NAME": "oaas-1"])
            var health = try await envHealth(crm)
            #expect(health.envName == "oaas-1")
            #expect(health.status == "Unhealthy")  // no nodes at all
            #expect(health.nodeCount == 0)
            #expect(!health.hasAvailability)
            #expect(health.templates == ["dev", "edge", "cloud"])
            #expect(health.crmVersion == CRMRole.version)

            for (name, ready) in [("n1", true), ("n2", true), ("n3", false), ("n4", true)] {
                _ = try await client.create(CrmInfoService.nodes, node(name, ready: ready))
                // Node status is not a subresource here: create keeps it.
                try server.setStatus("nodes", name: name, node(name, ready: ready).status.map(Self.testJSON) ?? .null)
            }
            health = try await envHealth(crm)
            #expect(health.status == "Degraded")
            #expect(health.nodeCount == 4)
            #expect(health.readyNodes == 3)
            #expect(health.availability == 0.75)

            let mocked = try await envHealth(role(client, ["OPRC_MOCK_CLUSTER_AVAILABILITY": "0.37"]))
            #expect(mocked.availability == 0.37)
            let clamped = try await envHealth(role(client, ["OPRC_MOCK_CLUSTER_AVAILABILITY": "7"]))
            #expect(clamped.availability == 1)

            server.injectFault(KubeFault(pathContains: "/nodes", code: 403, times: 1))
            let forbidden = try await envHealth(crm)
            #expect(forbidden.status == "Unknown")
            #expect(!forbidden.hasNodeCount)
        }
    }

    @Test func envHealthWithoutAnAPIServerIsUnhealthy() async throws {
        let client = try KubeClient(configuration: KubeConfig(server: "http://127.0.0.1:1", namespace: "oaas-1"),
                                    fieldManager: "oprc-crm", requestTimeout: .seconds(2))
        let health = try await envHealth(role(client, ["OPRC_MOCK_CLUSTER_AVAILABILITY": "0.5"]))
        #expect(health.status == "Unhealthy")
        #expect(health.availability == 0.5)
        #expect(!health.hasNodeCount)
        try await client.shutdown()
    }

    @Test func knativeDiscoveryRegistersTheTemplate() async throws {
        try await CRMHarness.withServer { server, client in
            let crm = role(client)
            await crm.discovery.refresh(client: client, health: crm.health, logger: CRMHarness.quietLogger())
            #expect(crm.discovery.knativeKnown)
            #expect(try await envHealth(crm).templates == ["dev", "edge", "cloud"])
            try server.registerCustomResource(group: "serving.knative.dev", version: "v1", kind: "Service",
                                              plural: "services")
            await crm.discovery.refresh(client: client, health: crm.health, logger: CRMHarness.quietLogger())
            #expect(try await envHealth(crm).templates == ["dev", "edge", "cloud", "knative"])
            // The feature switch wins over discovery.
            let off = role(client, ["OPRC_CRM_FEATURES_KNATIVE": "false"])
            await off.discovery.refresh(client: client, health: off.health, logger: CRMHarness.quietLogger())
            #expect(try await envHealth(off).templates == ["dev", "edge", "cloud"])
        }
    }

    // MARK: HealthService

    @Test func healthIsServingOnlyWhileTheAPIServerAnswers() async throws {
        try await CRMHarness.withServer { server, client in
            let crm = CRMRole(config: CRMHarness.config { $0.timings.apiHealthWindow = .milliseconds(600) },
                              client: client, logger: CRMHarness.quietLogger())
            let health = CRMHealthService(health: crm.health, pollInterval: .milliseconds(50))
            let context = crmServerContext("Check")
            #expect(try await health.check(request: .init(), context: context).status == .notServing)
            try await CRMHarness.running(crm) {
                try await CRMHarness.eventually(.seconds(5), "SERVING") {
                    try await health.check(request: .init(), context: context).status == .serving
                }
                // The API server stops answering: NOT_SERVING once the window passes.
                server.injectFault(KubeFault(code: 503))
                try await CRMHarness.eventually(.seconds(5), "NOT_SERVING") {
                    try await health.check(request: .init(), context: context).status == .notServing
                }
                server.clearFaults()
                try await CRMHarness.eventually(.seconds(5), "SERVING again") {
                    try await health.check(request: .init(), context: context).status == .serving
                }
            }
        }
    }

    static func testJSON(_ value: JSONValue) -> TestJSON {
        switch value {
        case .null: .null
        case .bool(let bool): .bool(bool)
        case .int(let int): .int(int)
        case .double(let double): .double(double)
        case .string(let string): .string(string)
        case .array(let array): .array(array.map(testJSON))
        case .object(let object): .object(object.mapValues(testJSON))
        }
    }
}
