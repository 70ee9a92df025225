import Foundation
import PM
import Testing

/// LMDB is PM's default: a restarted PM has its packages, deployments and mappings back (spec §6, §16).
@Suite struct RestartTests {
    @Test func restartKeepsData() async throws {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-pm-restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let storage = PMConfig.Storage.lmdb(path: path, mapSizeBytes: 64 << 20)
        let crm = FakeCRM(env: "default")
        try await PMHarness.run(crms: [crm], storage: storage) { pm in
            let package = try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let deployment = try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(package.status == 201)
            #expect(deployment.status == 201)
        }
        #expect(FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("data.mdb")))
        let again = FakeCRM(env: "default")
        try await PMHarness.run(crms: [again], storage: storage) { pm in
            #expect(try await pm.get("/api/v1/packages/shop").status == 200)
            let record = try await pm.get("/api/v1/deployments/cart?live=false").object()
            #expect(record.object("status")?.object("envs")?.object("default")?.string("dispatch") == "accepted")
            let mappings = try await pm.get("/api/v1/deployments/cart/env-mappings").object()
            #expect(mappings.object("env_ids")?.string("default") == crm.deployed.first?.id)
            // Same ids after the restart: a redeploy updates in place.
            #expect(try await pm.post("/api/v1/deployments", Fixtures.deployment()).status == 200)
            #expect(again.deployed.first?.id == crm.deployed.first?.id)
            #expect(again.deployed.first?.odgmConfig.envNodeIds == crm.deployed.first?.odgmConfig.envNodeIds)
        }
    }

    @Test(.enabled(if: EtcdTestServer.isInstalled, EtcdTestServer.skipReason))
    func etcdBackedPMKeepsDataAcrossInstances() async throws {
        let server = try await EtcdTestServer.shared.value
        let storage = PMConfig.Storage.etcd(server.config(prefix: "/oaas-test/\(UUID().uuidString)"))
        try await PMHarness.run(crms: [FakeCRM(env: "default")], storage: storage) { pm in
            let package = try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let deployment = try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(package.status == 201)
            #expect(deployment.status == 201)
        }
        // A second PM replica (same prefix) sees the same records.
        try await PMHarness.run(crms: [FakeCRM(env: "default")], storage: storage) { pm in
            let package = try await pm.get("/api/v1/packages/shop")
            let mappings = try await pm.get("/api/v1/deployments/cart/env-mappings")
            #expect(package.status == 200)
            #expect(try mappings.object().object("env_ids")?.keys.sorted() == ["default"])
        }
    }
}
