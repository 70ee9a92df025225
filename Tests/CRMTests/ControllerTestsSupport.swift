import Foundation
import GRPCCore
import Kube
import KubeTestServer
import Logging
import OaaSCore
import OaaSProto
import ServiceLifecycle
import Testing

@testable import CRM

/// Shared plumbing of the controller, service and role tests (engineer B): a KubeTestServer with the shipped CRD,
/// a client, fast timings, and a way to run a CRMRole's services for the duration of a test body.
enum CRMHarness {
    static let namespace = "oaas-1"

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var crdPath: String { repositoryRoot.appendingPathComponent("k8s/crd/classruntimes.oaas.io.yaml").path }

    static func quietLogger(_ label: String = "crm-tests") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["CRM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
            ?? .critical
        return logger
    }

    /// A server with the ClassRuntime CRD registered and a client (manager `oprc-crm`) for it.
    static func withServer<T: Sendable>(
        callTimeout: Duration = .seconds(5),
        _ body: (KubeTestServer, KubeClient) async throws -> T
    ) async throws -> T {
        let configuration = KubeTestServer.Configuration(bookmarkInterval: .seconds(1), logger: quietLogger("kube-test-server"))
        return try await KubeTestServer.withRunning(configuration) { server in
            try server.registerCRDs(file: crdPath)
            let client = try makeClient(server, callTimeout: callTimeout)
            do {
                let result = try await body(server, client)
                try await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    static func makeClient(_ server: KubeTestServer, callTimeout: Duration = .seconds(5)) throws -> KubeClient {
        try KubeClient(configuration: KubeConfig(server: server.url, namespace: namespace),
                       fieldManager: CRMKeys.fieldManager, requestTimeout: callTimeout, logger: quietLogger("kube"))
    }

    /// A configuration for tests: namespace `oaas-1`, an ODGM image, and every delay short.
    static func config(_ env: [String: String] = [:], _ tweak: (inout CRMConfig) -> Void = { _ in }) -> CRMConfig {
        var values = ["OPRC_CRM_K8S_NAMESPACE": namespace, "OAAS_IMAGE": "registry.local/oaas:test",
                      "POD_NAME": "crm-test"]
        values.merge(env) { _, new in new }
        var config = CRMConfig(env: EnvReader(values), serviceAccountDirectory: "/nonexistent")
        config.timings.progressingRequeue = .milliseconds(200)
        config.timings.degradedRequeue = .milliseconds(200)
        config.timings.errorRequeue = .milliseconds(100)
        config.timings.maxBackoff = .seconds(1)
        config.timings.deletionRequeue = .milliseconds(100)
        config.timings.apiHealthProbe = .milliseconds(200)
        config.timings.knativeRecheck = .seconds(1)
        tweak(&config)
        return config
    }

    /// Runs the role's services while `body` runs, then cancels them and waits for them to stop.
    static func running<T: Sendable>(
        _ role: CRMRole, _ body: () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in role.services {
                group.addTask { try await service.run() }
            }
            do {
                let result = try await body()
                group.cancelAll()
                try? await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// Polls `condition` every 25 ms until it holds; records an issue (and throws) after `limit`.
    static func eventually(
        _ limit: Duration = .seconds(10), _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        if try await condition() { return }
        Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
        throw CRMHarnessTimeout(what: what)
    }

    // MARK: Units

    /// A unit with one container function (and ODGM on): renders a function Deployment + Service and the ODGM
    /// StatefulSet + Services.
    static func unit(
        id: String = "cart-1a2b3c4d", image: String = "registry.local/cart-add:1",
        functions: [(key: String, image: String)]? = nil, revision: UInt64? = nil, deploymentKey: String = "cart"
    ) -> Oaas_Deployment_DeploymentUnit {
        var unit = Oaas_Deployment_DeploymentUnit()
        unit.id = id
        unit.packageName = "shop"
        unit.classKey = "Cart"
        unit.targetEnv = namespace
        unit.deploymentKey = deploymentKey
        if let revision { unit.revision = revision }
        let list = functions ?? [(key: "Cart.add", image: image)]
        for (index, function) in list.enumerated() {
            var spec = Oaas_Deployment_FunctionDeploymentSpec()
            spec.functionKey = function.key
            var provision = Oaas_Common_ProvisionConfig()
            provision.containerImage = function.image
            spec.provisionConfig = provision
            unit.functions.append(spec)
            var binding = Oaas_Deployment_ClassFunctionBinding()
            binding.name = "m\(index)"
            binding.functionKey = function.key
            unit.functionBindings.append(binding)
        }
        var odgm = Oaas_Deployment_OdgmConfig()
        odgm.collections = ["shop.Cart"]
        odgm.partitionCount = 1
        odgm.replicaCount = 1
        odgm.shardType = "mst"
        unit.odgmConfig = odgm
        return unit
    }

    static func deployRequest(_ unit: Oaas_Deployment_DeploymentUnit) -> Oaas_Deployment_DeployRequest {
        var request = Oaas_Deployment_DeployRequest()
        request.deploymentUnit = unit
        return request
    }

    // MARK: Reading the server

    static func object(_ server: KubeTestServer, _ resource: String, _ name: String) -> TestJSON? {
        server.object(resource, namespace: namespace, name: name)
    }

    static func runtime(_ server: KubeTestServer, _ name: String) -> TestJSON? {
        object(server, "classruntimes.oaas.io", name)
    }

    static func phase(_ server: KubeTestServer, _ name: String) -> String? {
        runtime(server, name)?.value(at: "status", "phase")?.stringValue
    }

    static func condition(_ server: KubeTestServer, _ name: String, _ type: String) -> TestJSON? {
        runtime(server, name)?.value(at: "status", "conditions")?.arrayValue?.first {
            $0["type"]?.stringValue == type
        }
    }

    /// Names of the objects of `resource` owned by the CR `owner`.
    static func owned(_ server: KubeTestServer, _ resource: String, owner: String) -> [String] {
        server.objects(resource, namespace: namespace)
            .filter { $0.value(at: "metadata", "labels", "oaas.io/owner")?.stringValue == owner }
            .compactMap { $0.value(at: "metadata", "name")?.stringValue }
    }

    static func events(_ server: KubeTestServer, reason: String? = nil) -> [TestJSON] {
        server.objects("events", namespace: namespace).filter { reason == nil || $0["reason"]?.stringValue == reason }
    }

    /// Plays the workload controllers: every owned Deployment and StatefulSet reports ready.
    static func markWorkloadsReady(_ server: KubeTestServer, owner: String) throws {
        for name in owned(server, "deployments.apps", owner: owner) {
            try server.markDeploymentReady(namespace: namespace, name: name)
        }
        for name in owned(server, "statefulsets.apps", owner: owner) {
            try server.markStatefulSetReady(namespace: namespace, name: name)
        }
    }
}

struct CRMHarnessTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A `ServerContext` for calling service handlers directly.
func crmServerContext(_ method: String) -> ServerContext {
    ServerContext(
        descriptor: MethodDescriptor(fullyQualifiedService: "oaas.deployment.DeploymentService", method: method),
        remotePeer: "in-process:test", localPeer: "in-process:test", cancellation: .init())
}

/// Request metadata with a correlation id and optionally a `grpc-timeout`.
func crmMetadata(correlationId: String? = nil, timeout: String? = nil) -> Metadata {
    var metadata = Metadata()
    if let correlationId { metadata.addString(correlationId, forKey: "x-correlation-id") }
    if let timeout { metadata.addString(timeout, forKey: "grpc-timeout") }
    return metadata
}
