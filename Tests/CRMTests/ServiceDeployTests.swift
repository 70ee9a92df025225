import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
import GRPCInProcessTransport
import Kube
import KubeTestServer
import OaaSCore
import OaaSProto
import Testing

@testable import CRM

/// DeploymentService against a KubeTestServer (control-plane spec §8.1, §8.3).
@Suite("CRM DeploymentService", .serialized)
struct ServiceDeployTests {
    /// The services of a role built around `client`, with fast timings.
    private func services(_ client: KubeClient, _ tweak: (inout CRMConfig) -> Void = { _ in }) -> DeploymentService {
        let role = CRMRole(config: CRMHarness.config([:], tweak), client: client, logger: CRMHarness.quietLogger())
        return DeploymentService(context: role.serviceContext)
    }

    private func deploy(
        _ service: DeploymentService, _ unit: Oaas_Deployment_DeploymentUnit, correlationId: String? = nil,
        timeout: String? = nil
    ) async throws -> ServerResponse<Oaas_Deployment_DeployResponse> {
        try await service.deploy(
            request: ServerRequest(metadata: crmMetadata(correlationId: correlationId, timeout: timeout),
                                   message: CRMHarness.deployRequest(unit)),
            context: crmServerContext("Deploy"))
    }

    @discardableResult
    private func expectRPCError(
        _ code: RPCError.Code, sourceLocation: SourceLocation = #_sourceLocation,
        _ operation: () async throws -> Void
    ) async -> RPCError? {
        do {
            try await operation()
            Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
            return nil
        } catch let error as RPCError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: Upsert

    @Test func deployIsAnUpsertReportingCreatedUnchangedUpdated() async throws {
        try await CRMHarness.withServer { server, client in
            let service = services(client)
            let unit = CRMHarness.unit()
            let first = try await deploy(service, unit, correlationId: "corr-1").message
            #expect(first.status == .ok)
            #expect(first.deploymentID == "cart-1a2b3c4d")
            #expect(first.message == "created")

            let stored = try #require(CRMHarness.runtime(server, "cart-1a2b3c4d"))
            #expect(stored.value(at: "metadata", "labels", "oaas.io/deployment-id")?.stringValue == "cart-1a2b3c4d")
            #expect(stored.value(at: "metadata", "annotations", "oaas.io/correlation-id")?.stringValue == "corr-1")
            #expect(stored.value(at: "metadata", "finalizers")?.arrayValue == [.string("oaas.io/finalizer")])
            #expect(stored.value(at: "spec", "package_class_key")?.stringValue == "shop.Cart")
            let generation = stored.value(at: "metadata", "generation")?.intValue

            let second = try await deploy(service, unit, correlationId: "corr-2").message
            #expect(second.message == "unchanged")
            let again = try #require(CRMHarness.runtime(server, "cart-1a2b3c4d"))
            #expect(again.value(at: "metadata", "generation")?.intValue == generation)
            // The latest request's correlation id is recorded even when the spec did not change.
            #expect(again.value(at: "metadata", "annotations", "oaas.io/correlation-id")?.stringValue == "corr-2")

            let changed = try await deploy(service, CRMHarness.unit(image: "registry.local/cart-add:2")).message
            #expect(changed.message == "updated")
            let updated = try #require(CRMHarness.runtime(server, "cart-1a2b3c4d"))
            #expect((updated.value(at: "metadata", "generation")?.intValue ?? 0) > (generation ?? 0))
            #expect(updated.value(at: "spec", "functions")?.arrayValue?.first?
                .value(at: "provision_config", "container_image")?.stringValue == "registry.local/cart-add:2")
            // Server-side apply under one manager.
            let managers = server.recordedRequests().filter { $0.method == "PATCH" && $0.path.contains("classruntimes") }
            #expect(!managers.isEmpty && managers.allSatisfy { $0.query["fieldManager"] == "oprc-crm" && $0.query["force"] == "true" })
        }
    }

    @Test func correlationIdIsEchoedOverGRPC() async throws {
        try await CRMHarness.withServer { server, client in
            let role = CRMRole(config: CRMHarness.config(), client: client, logger: CRMHarness.quietLogger())
            let transport = InProcessTransport()
            try await withGRPCServer(transport: transport.server, services: role.grpcServices) { _ in
                try await withGRPCClient(transport: transport.client) { grpc in
                    let deployments = Oaas_Deployment_DeploymentService.Client(wrapping: grpc)
                    var metadata = Metadata()
                    metadata.addString("corr-echo", forKey: "x-correlation-id")
                    let echoed = try await deployments.deploy(
                        CRMHarness.deployRequest(CRMHarness.unit()), metadata: metadata
                    ) { response in
                        (response.metadata[stringValues: "x-correlation-id"].first(where: { _ in true }),
                         try response.message.message)
                    }
                    #expect(echoed.0 == "corr-echo")
                    #expect(echoed.1 == "created")
                    // Failures carry it too (as trailing metadata).
                    var missing = Oaas_Deployment_GetDeploymentStatusRequest()
                    missing.deploymentID = "nope-00000000"
                    do {
                        _ = try await deployments.getDeploymentStatus(missing, metadata: metadata)
                        Issue.record("expected NOT_FOUND")
                    } catch let error as RPCError {
                        #expect(error.code == .notFound)
                        #expect(error.metadata[stringValues: "x-correlation-id"].contains("corr-echo"))
                    }
                }
            }
            #expect(CRMHarness.runtime(server, "cart-1a2b3c4d")?
                .value(at: "metadata", "annotations", "oaas.io/correlation-id")?.stringValue == "corr-echo")
        }
    }

    @Test func anotherDeploymentsRuntimeIsAlreadyExists() async throws {
        try await CRMHarness.withServer { _, client in
            let service = services(client)
            var foreign = KubeObject(.classRuntimes, name: "cart-1a2b3c4d", namespace: CRMHarness.namespace)
            foreign.labels = ["oaas.io/deployment-id": "someone-else"]
            foreign.spec = ["package_class_key": "shop.Cart"]
            try await client.create(.classRuntimes, foreign)
            let error = await expectRPCError(.alreadyExists) { _ = try await deploy(service, CRMHarness.unit()) }
            #expect(error?.message.contains("someone-else") == true)

            // Same name, other PM deployment key.
            _ = try await deploy(service, CRMHarness.unit(id: "orders-00000001", deploymentKey: "orders"))
            await expectRPCError(.alreadyExists) {
                _ = try await deploy(service, CRMHarness.unit(id: "orders-00000001", deploymentKey: "invoices"))
            }
        }
    }

    @Test func aRuntimeBeingDeletedIsAborted() async throws {
        try await CRMHarness.withServer { server, client in
            let service = services(client)
            _ = try await deploy(service, CRMHarness.unit())
            // No controller runs here, so the finalizer keeps the CR in deletion.
            try await client.delete(.classRuntimes, namespace: CRMHarness.namespace, name: "cart-1a2b3c4d")
            let error = await expectRPCError(.aborted) { _ = try await deploy(service, CRMHarness.unit()) }
            #expect(error?.message.contains("being deleted") == true)
            #expect(CRMHarness.runtime(server, "cart-1a2b3c4d")?.value(at: "metadata", "deletionTimestamp") != nil)
        }
    }

    @Test func anOlderRevisionIsFailedPrecondition() async throws {
        try await CRMHarness.withServer { _, client in
            let service = services(client)
            _ = try await deploy(service, CRMHarness.unit(revision: 1_700_000_000_005))
            let error = await expectRPCError(.failedPrecondition) {
                _ = try await deploy(service, CRMHarness.unit(image: "x:2", revision: 1_700_000_000_001))
            }
            #expect(error?.message.contains("deployment_unit.revision") == true)
            let newer = try await deploy(service, CRMHarness.unit(image: "x:3", revision: 1_700_000_000_009)).message
            #expect(newer.message == "updated")
        }
    }

    @Test func invalidUnitsNameTheField() async throws {
        try await CRMHarness.withServer { server, client in
            let service = services(client)
            let missing = await expectRPCError(.invalidArgument) {
                _ = try await service.deploy(
                    request: ServerRequest(metadata: [:], message: Oaas_Deployment_DeployRequest()),
                    context: crmServerContext("Deploy"))
            }
            #expect(missing?.message.hasPrefix("deployment_unit") == true)
            let badId = await expectRPCError(.invalidArgument) {
                _ = try await deploy(service, CRMHarness.unit(id: "___"))
            }
            #expect(badId?.message.contains("deployment_unit.id") == true)
            #expect(server.objects("classruntimes.oaas.io").isEmpty)
        }
    }

    // MARK: Deadlines

    @Test func almostExpiredDeadlineIsRefusedWithoutSideEffects() async throws {
        try await CRMHarness.withServer { server, client in
            let service = services(client)
            server.clearRecordedRequests()
            let error = await expectRPCError(.deadlineExceeded) {
                _ = try await deploy(service, CRMHarness.unit(), timeout: "20m")
            }
            #expect(error?.message.contains("deadline") == true)
            #expect(server.recordedRequests().isEmpty)
            #expect(server.objects("classruntimes.oaas.io").isEmpty)
        }
    }

    @Test func aSlowAPIServerExhaustsTheDeadline() async throws {
        // An API server that accepts connections and never answers.
        let hanging = SlowLoris()
        defer { hanging.close() }
        let configuration = KubeConfig(server: hanging.url, namespace: CRMHarness.namespace)
        let client = try KubeClient(configuration: configuration, fieldManager: "oprc-crm", requestTimeout: .seconds(30))
        // The request's 300 ms run out long before the 30 s per-call bound: DEADLINE_EXCEEDED, promptly.
        let started = ContinuousClock.now
        await expectRPCError(.deadlineExceeded) {
            _ = try await deploy(services(client), CRMHarness.unit(), timeout: "300m")
        }
        #expect(ContinuousClock.now - started < .seconds(15))
        // Without a request deadline the per-call bound (OPRC_CRM_K8S_CALL_TIMEOUT_SECS) applies: UNAVAILABLE.
        let bounded = services(client) { $0.timings.kubeCallTimeout = .milliseconds(300) }
        await expectRPCError(.unavailable) { _ = try await deploy(bounded, CRMHarness.unit()) }
        try await client.shutdown()
    }

    // MARK: Kubernetes failures (§8.1 table)

    @Test func kubernetesFailuresMapToGRPCCodes() async throws {
        try await CRMHarness.withServer { server, client in
            let service = services(client)
            server.injectFault(KubeFault(method: "GET", pathContains: "/classruntimes/", code: 403, times: 1))
            await expectRPCError(.permissionDenied) { _ = try await deploy(service, CRMHarness.unit()) }
            server.injectFault(KubeFault(method: "GET", pathContains: "/classruntimes/", code: 500, times: 1))
            await expectRPCError(.unavailable) { _ = try await deploy(service, CRMHarness.unit()) }
            server.injectFault(KubeFault(method: "GET", pathContains: "/classruntimes/", code: 429, times: 1))
            await expectRPCError(.unavailable) { _ = try await deploy(service, CRMHarness.unit()) }
            server.injectFault(KubeFault(method: "PATCH", pathContains: "/classruntimes/", code: 422,
                                         message: "spec.functions: Invalid value", times: 1))
            let invalid = await expectRPCError(.invalidArgument) { _ = try await deploy(service, CRMHarness.unit()) }
            #expect(invalid?.message.contains("spec.functions") == true)
            server.injectFault(KubeFault(method: "PATCH", pathContains: "/classruntimes/", code: 409, times: 1))
            await expectRPCError(.aborted) { _ = try await deploy(service, CRMHarness.unit()) }
            #expect(server.activeFaults.isEmpty)
            // And after the faults, the same call works.
            let recovered = try await deploy(service, CRMHarness.unit()).message
            #expect(recovered.message == "created")
        }
    }

    @Test func anUnreachableAPIServerIsUnavailable() async throws {
        let client = try KubeClient(configuration: KubeConfig(server: "http://127.0.0.1:1", namespace: "oaas-1"),
                                    fieldManager: "oprc-crm", requestTimeout: .seconds(2))
        let service = services(client)
        await expectRPCError(.unavailable) { _ = try await deploy(service, CRMHarness.unit()) }
        try await client.shutdown()
    }
}

/// A TCP listener that accepts connections and never answers: an API server that hangs.
final class SlowLoris: @unchecked Sendable {
    private let socket: Int32
    let port: Int

    init() {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        _ = listen(fd, 16)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        socket = fd
        port = Int(UInt16(bigEndian: bound.sin_port))
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func close() {
        #if canImport(Glibc)
        _ = Glibc.close(socket)
        #else
        _ = Darwin.close(socket)
        #endif
    }
}
