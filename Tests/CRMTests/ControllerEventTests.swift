import Foundation
import GRPCCore
import Kube
import KubeTestServer
import OaaSProto
import Testing

@testable import CRM

/// Events (control-plane spec §9.5) and namespace isolation of controllers.
@Suite("CRM events and namespaces", .serialized)
struct ControllerEventTests {
    private let target = EventRecorder.Target(
        apiVersion: "oaas.io/v1alpha1", kind: "ClassRuntime", name: "cart-1", namespace: CRMHarness.namespace,
        uid: "uid-1", resourceVersion: "7", correlationId: "corr-9")

    @Test func repeatedEventsBumpTheCountInsteadOfMultiplying() async throws {
        try await CRMHarness.withServer { server, client in
            let recorder = EventRecorder(client: client, reportingInstance: "crm-0", window: .seconds(600),
                                         logger: CRMHarness.quietLogger())
            for _ in 0..<3 {
                await recorder.record(target, .normal, reason: "Applied", message: "applied 3 objects (template dev)")
            }
            await recorder.record(target, .warning, reason: "Degraded", message: "CrashLoop: pod x")
            let applied = CRMHarness.events(server, reason: "Applied")
            #expect(applied.count == 1)
            let event = try #require(applied.first)
            #expect(event["count"]?.intValue == 3)
            #expect(event["type"]?.stringValue == "Normal")
            #expect(event.value(at: "source", "component")?.stringValue == "oprc-crm")
            #expect(event["reportingComponent"]?.stringValue == "oaas.io/crm")
            #expect(event["reportingInstance"]?.stringValue == "crm-0")
            #expect(event.value(at: "involvedObject", "uid")?.stringValue == "uid-1")
            #expect(event.value(at: "metadata", "annotations", "oaas.io/correlation-id")?.stringValue == "corr-9")
            #expect(event["firstTimestamp"] != nil && event["lastTimestamp"] != nil)
            #expect(CRMHarness.events(server, reason: "Degraded").first?["type"]?.stringValue == "Warning")
        }
    }

    @Test func outsideTheWindowANewEventStarts() async throws {
        try await CRMHarness.withServer { server, client in
            let recorder = EventRecorder(client: client, reportingInstance: "crm-0", window: .milliseconds(100),
                                         logger: CRMHarness.quietLogger())
            await recorder.record(target, .normal, reason: "Available", message: "2/2 workloads ready")
            try await Task.sleep(for: .milliseconds(200))
            await recorder.record(target, .normal, reason: "Available", message: "2/2 workloads ready")
            #expect(CRMHarness.events(server, reason: "Available").count == 2)
            // A deleted Event is replaced rather than patched into the void.
            let fast = EventRecorder(client: client, reportingInstance: "crm-0", window: .seconds(600),
                                     logger: CRMHarness.quietLogger())
            await fast.record(target, .normal, reason: "Deleting", message: "x")
            for event in CRMHarness.events(server, reason: "Deleting") {
                if let name = event.value(at: "metadata", "name")?.stringValue {
                    try await client.delete(.events, namespace: CRMHarness.namespace, name: name)
                }
            }
            await fast.record(target, .normal, reason: "Deleting", message: "x")
            #expect(CRMHarness.events(server, reason: "Deleting").count == 1)
        }
    }

    @Test func controllersInTwoNamespacesOnlyTouchTheirOwn() async throws {
        try await CRMHarness.withServer { server, client in
            let roles = try ["oaas-1", "oaas-2"].map { namespace in
                CRMRole(config: CRMHarness.config(["OPRC_CRM_K8S_NAMESPACE": namespace]),
                        client: try KubeClient(configuration: KubeConfig(server: server.url, namespace: namespace),
                                               fieldManager: "oprc-crm", requestTimeout: .seconds(5)),
                        logger: CRMHarness.quietLogger())
            }
            let tasks = roles.map { role in
                Task { try await CRMHarness.running(role) { try await Task.sleep(for: .seconds(3600)) } }
            }
            defer { for task in tasks { task.cancel() } }
            for (index, role) in roles.enumerated() {
                _ = try await DeploymentService(context: role.serviceContext).deploy(
                    request: ServerRequest(metadata: [:], message: CRMHarness.deployRequest(
                        CRMHarness.unit(id: "unit-\(index)", deploymentKey: "d\(index)"))),
                    context: crmServerContext("Deploy"))
            }
            try await CRMHarness.eventually(.seconds(10), "children in both namespaces") {
                !server.objects("deployments.apps", namespace: "oaas-1").isEmpty
                    && !server.objects("deployments.apps", namespace: "oaas-2").isEmpty
            }
            func owners(_ namespace: String) -> Set<String> {
                Set(server.objects("deployments.apps", namespace: namespace)
                    .compactMap { $0.value(at: "metadata", "labels", "oaas.io/owner")?.stringValue })
            }
            #expect(owners("oaas-1") == ["unit-0"])
            #expect(owners("oaas-2") == ["unit-1"])
            for task in tasks { task.cancel() }
            for task in tasks { _ = try? await task.value }
            for role in roles { try await role.client.shutdown() }
            _ = client
        }
    }

    @Test func healthWatchStreamsChanges() async throws {
        try await CRMHarness.withServer { _, client in
            let health = APIServerHealth(window: .milliseconds(200))
            let service = CRMHealthService(health: health, pollInterval: .milliseconds(20))
            let (stream, continuation) = AsyncStream<Oaas_Health_HealthCheckResponse.ServingStatus>.makeStream()
            let writer = RPCWriter(wrapping: StatusCollector(continuation: continuation))
            let watching = Task {
                try await service.watch(request: .init(), response: writer, context: crmServerContext("Watch"))
            }
            var statuses = stream.makeAsyncIterator()
            #expect(await statuses.next() == .notServing)
            health.recordAnswer()
            #expect(await statuses.next() == .serving)
            // No answer for longer than the window.
            #expect(await statuses.next() == .notServing)
            watching.cancel()
            _ = try? await watching.value
            _ = client
        }
    }
}

/// Collects what a server-streaming handler writes.
struct StatusCollector: RPCWriterProtocol {
    let continuation: AsyncStream<Oaas_Health_HealthCheckResponse.ServingStatus>.Continuation

    func write(_ element: Oaas_Health_HealthCheckResponse) async throws {
        continuation.yield(element.status)
    }

    func write(contentsOf elements: some Sequence<Oaas_Health_HealthCheckResponse>) async throws {
        for element in elements { continuation.yield(element.status) }
    }
}
