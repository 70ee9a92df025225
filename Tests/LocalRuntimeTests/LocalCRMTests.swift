import CRM
import Foundation
import GRPCCore
import Logging
import NIOCore
import NIOPosix
import ODGM
import OaaSCore
import OaaSProto
import Storage
import Testing
@testable import LocalRuntime

/// A local env over a real ODGM node and real LMDB files in a temp directory.
final class LocalEnv: Sendable {
    let dir: String
    let storage = StorageRegistry()
    let node: ODGMNode
    let host: ODGMCollectionHost
    let crm: LocalCRM

    init(functionURLs: [String: String] = [:], progressDeadline: Duration = .seconds(600)) throws {
        dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-local-\(UUID().uuidString)")
        var config = ODGMConfig()
        config.dataDir = (dir as NSString).appendingPathComponent("odgm")
        config.mapSizeMB = 64
        node = try ODGMNode(config: config, storage: storage, logger: Logger(label: "test"))
        try node.start()
        host = ODGMCollectionHost(node: node)
        crm = try LocalCRM(
            options: .init(envName: "local", dataDir: dir, functionURLs: functionURLs, progressDeadline: progressDeadline,
                           recheckInterval: .milliseconds(50)),
            host: host, storage: storage, logger: Logger(label: "test"))
    }

    deinit {
        storage.closeAll()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Reconciles until `done` holds (the reconcile runs in the background after each RPC).
    func settle(_ id: String, until done: (Oaas_Deployment_GetDeploymentStatusResponse) -> Bool) async throws -> Oaas_Deployment_GetDeploymentStatusResponse {
        for _ in 0..<100 {
            await crm.reconcile(try CRMNames.sanitize(id))
            let status = try await crm.status(id)
            if done(status) { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await crm.status(id)
    }
}

func unit(id: String = "shop-cart-1a2b3c4d", functions: [(key: String, endpoint: String?, image: String?)],
          partitions: UInt32 = 4, persistent: Bool = true) -> Oaas_Deployment_DeploymentUnit {
    var unit = Oaas_Deployment_DeploymentUnit()
    unit.id = id
    unit.packageName = "shop"
    unit.classKey = "Cart"
    unit.targetEnv = "local"
    unit.deploymentKey = "shop-cart"
    for function in functions {
        var spec = Oaas_Deployment_FunctionDeploymentSpec()
        spec.functionKey = function.key
        var provision = Oaas_Common_ProvisionConfig()
        if let endpoint = function.endpoint { provision.endpointURL = endpoint }
        if let image = function.image { provision.containerImage = image }
        spec.provisionConfig = provision
        unit.functions.append(spec)
        var binding = Oaas_Deployment_ClassFunctionBinding()
        binding.name = function.key
        binding.functionKey = function.key
        unit.functionBindings.append(binding)
        var route = Oaas_Deployment_FunctionRoute()
        route.functionKey = function.key
        unit.odgmConfig.invocations.fnRoutes[function.key] = route
    }
    unit.odgmConfig.collections = ["shop.Cart"]
    unit.odgmConfig.partitionCount = partitions
    unit.odgmConfig.replicaCount = 1
    unit.odgmConfig.shardType = "none"
    var persistence = Oaas_Deployment_OdgmPersistence()
    persistence.enabled = persistent
    unit.odgmConfig.persistence = persistence
    return unit
}

/// A TCP listener standing in for an endpoint function runtime.
func listener() async throws -> (any Channel, Int) {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    return (channel, channel.localAddress?.port ?? 0)
}

@Suite struct LocalCRMTests {
    @Test func deployCreatesCollectionsAndBecomesAvailable() async throws {
        let (server, port) = try await listener()
        defer { server.close(promise: nil) }
        let env = try LocalEnv()
        let created = try await env.crm.deploy(unit(functions: [("total", "http://127.0.0.1:\(port)", nil)]), correlationId: "c-1")
        #expect(created.message == "created")
        #expect(created.deploymentID == "shop-cart-1a2b3c4d")
        let status = try await env.settle("shop-cart-1a2b3c4d") { $0.runtimeStatus.condition == .running }
        #expect(status.message == "Available")
        #expect(status.runtimeStatus.phase == .phaseRunning)
        let collection = try #require(env.node.collection(named: "shop.Cart"))
        #expect(collection.spec.partitionCount == 4)
        #expect(collection.spec.request.invocations.fnRoutes["total"]?.url == "http://127.0.0.1:\(port)")
        #expect(status.statusResourceRefs.map(\.name).contains("shop.Cart"))
        // Same unit again: unchanged, same record.
        let again = try await env.crm.deploy(unit(functions: [("total", "http://127.0.0.1:\(port)", nil)]), correlationId: "c-2")
        #expect(again.message == "unchanged")
        let list = try await env.crm.list(Oaas_Deployment_ListClassRuntimesRequest())
        #expect(list.items.map(\.deploymentUnitID) == ["shop-cart-1a2b3c4d"])
        #expect(list.items.first?.partitionCount == 4)
    }

    @Test func containerOnlyFunctionIsDegradedNoLocalRuntime() async throws {
        let env = try LocalEnv()
        _ = try await env.crm.deploy(unit(functions: [("total", nil, "ghcr.io/x/total:1")]), correlationId: nil)
        let status = try await env.settle("shop-cart-1a2b3c4d") { $0.runtimeStatus.condition == .down }
        #expect(status.message.hasPrefix("Degraded (NoLocalRuntime)"))
        #expect(status.message.contains("--function-url total="))
        // The binding is disabled in the collection ODGM got, the data side still works.
        let collection = try #require(env.node.collection(named: "shop.Cart"))
        #expect(collection.spec.request.invocations.disabledFn == ["total"])
    }

    @Test func functionURLOverrideAndUnreachableEndpointProgressesThenTimesOut() async throws {
        let env = try LocalEnv(functionURLs: ["total": "http://127.0.0.1:1"], progressDeadline: .milliseconds(200))
        _ = try await env.crm.deploy(unit(functions: [("total", "http://example.invalid:9", nil)]), correlationId: nil)
        let progressing = try await env.settle("shop-cart-1a2b3c4d") { $0.runtimeStatus.condition == .deploying }
        #expect(progressing.message == "Progressing")
        #expect(env.node.collection(named: "shop.Cart")?.spec.request.invocations.fnRoutes["total"]?.url == "http://127.0.0.1:1")
        let timedOut = try await env.settle("shop-cart-1a2b3c4d") { $0.runtimeStatus.condition == .down }
        #expect(timedOut.message.hasPrefix("Degraded (Timeout)"))
    }

    @Test func updateInPlaceAndDeleteDropsCollections() async throws {
        let (server, port) = try await listener()
        defer { server.close(promise: nil) }
        let env = try LocalEnv()
        let url = "http://127.0.0.1:\(port)"
        _ = try await env.crm.deploy(unit(functions: [("total", url, nil), ("add", url, nil)]), correlationId: nil)
        _ = try await env.settle("shop-cart-1a2b3c4d") { $0.runtimeStatus.condition == .running }
        #expect(env.node.collection(named: "shop.Cart")?.spec.request.invocations.fnRoutes.keys.sorted() == ["add", "total"])
        let updated = try await env.crm.deploy(unit(functions: [("total", url, nil)]), correlationId: nil)
        #expect(updated.message == "updated")
        let settled = try await env.settle("shop-cart-1a2b3c4d") { $0.runtimeStatus.condition == .running }
        #expect(settled.deployment.functions.map(\.functionKey) == ["total"], "\(settled)")
        #expect(env.node.collection(named: "shop.Cart")?.spec.request.invocations.fnRoutes.keys.sorted() == ["total"])
        let deleting = try await env.crm.delete("shop-cart-1a2b3c4d")
        #expect(deleting.message == "deleting")
        for _ in 0..<100 where (try? await env.crm.status("shop-cart-1a2b3c4d")) != nil {
            await env.crm.reconcile("shop-cart-1a2b3c4d")
            try await Task.sleep(for: .milliseconds(20))
        }
        await #expect(throws: CRMError.self) { try await env.crm.status("shop-cart-1a2b3c4d") }
        #expect(env.node.collection(named: "shop.Cart") == nil)
    }

    @Test func envHealthAndUnknownIds() async throws {
        let env = try LocalEnv()
        await #expect(throws: CRMError.self) { _ = try await env.crm.status("missing") }
        await #expect(throws: CRMError.self) { _ = try await env.crm.delete("missing") }
        let health = env.crm.envHealth()
        #expect(health.envName == "local")
        #expect(health.status == "Healthy")
        #expect(health.nodeCount == 1 && health.readyNodes == 1 && health.availability == 1.0)
        #expect(health.templates == ["dev", "edge", "cloud"])
    }

    @Test func recordsSurviveRestart() async throws {
        let env = try LocalEnv()
        _ = try await env.crm.deploy(unit(functions: [("total", nil, "img")]), correlationId: nil)
        env.storage.closeAll()
        let storage = StorageRegistry()
        defer { storage.closeAll() }
        let reopened = try LocalCRM(options: .init(envName: "local", dataDir: env.dir), host: env.host, storage: storage,
                                    logger: Logger(label: "test"))
        let status = try await reopened.status("shop-cart-1a2b3c4d")
        #expect(status.deployment.id == "shop-cart-1a2b3c4d")
        #expect(status.deployment.functions.map(\.functionKey) == ["total"])
    }
}
