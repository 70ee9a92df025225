import Foundation
import Logging
import OaaSModels
import Testing
@testable import PM

/// PM's typed storage over every backend (spec §6): packages with their dependency index, deployments with
/// mappings and the package index, compare-and-swap guards, and restart.
@Suite struct PMStoreTests {
    private func store(_ t: StoreUnderTest) -> PMStore { PMStore(kv: t.store, logger: Logger(label: "pm-store-test")) }

    @Test(arguments: Backend.available)
    func packagesAndTheDependencyIndex(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let store = store(t)
        try await store.prepare()
        try await store.prepare()
        #expect(try await t.store.get("meta/schema")?.value == Data(#"{"version":1}"#.utf8))

        let base = try await store.putPackage(OPackage(name: "base"), guard: .create)
        var app = OPackage(name: "app", dependencies: ["base"])
        app.deployments = [OClassDeployment(key: "d", packageName: "app", classKey: "C")]
        let appRevision = try await store.putPackage(app, guard: .create, dependencyRevisions: ["base": base])
        #expect(try await store.package("app")?.value.deployments.isEmpty == true, "deployments are never stored")
        #expect(try await store.dependents(of: "base") == ["app"])
        await #expect(throws: KVStoreError.conflict("packages/app")) { try await store.putPackage(app, guard: .create) }
        await #expect(throws: KVStoreError.conflict("packages/app")) { try await store.putPackage(app, guard: .revision(appRevision + 100)) }

        // Dropping the dependency drops its index entry.
        app.dependencies = []
        let updated = try await store.putPackage(app, guard: .revision(appRevision), previousDependencies: ["base"])
        #expect(try await store.dependents(of: "base").isEmpty)
        #expect(try await store.packages().map(\.value.name) == ["app", "base"])
        try await store.deletePackage(app, revision: updated)
        #expect(try await store.package("app") == nil)
    }

    @Test(arguments: Backend.available)
    func deploymentsMappingsAndIndexes(_ backend: Backend) async throws {
        let t = try await StoreUnderTest(backend)
        defer { withExtendedLifetime(t) {} }
        let store = store(t)
        let package = try await store.putPackage(OPackage(name: "shop"), guard: .create)
        let record = OClassDeployment(key: "cart", packageName: "shop", classKey: "Cart")
        var write = DeploymentWrite(record: record)
        write.setMappings = ["a": "cart-1", "b": "cart-2"]
        try await store.putDeployment(write, guard: .create, userSpec: record, packageRevision: package)
        #expect(try await store.mappings("cart") == ["a": "cart-1", "b": "cart-2"])
        #expect(try await store.deploymentKeys(ofPackage: "shop") == ["cart"])
        #expect(try await store.userSpec("cart")?.key == "cart")
        // Lists skip the keys below a record.
        try await store.putDeployment(DeploymentWrite(record: OClassDeployment(key: "a.b", packageName: "shop", classKey: "Cart")), guard: .create)
        #expect(try await store.deployments().map(\.value.key) == ["a.b", "cart"])

        try await store.setMapping("cart", env: "c", unit: "cart-3")
        var drop = DeploymentWrite(record: record)
        drop.removeMappings = ["a"]
        let stored = try #require(try await store.deployment("cart"))
        try await store.putDeployment(drop, guard: .revision(stored.revision))
        #expect(try await store.mappings("cart") == ["b": "cart-2", "c": "cart-3"])
        try await store.removeMappings("cart")
        #expect(try await store.mappings("cart").isEmpty)

        // A stale revision or a changed package refuses the write.
        await #expect(throws: KVStoreError.self) { try await store.putDeployment(DeploymentWrite(record: record), guard: .revision(stored.revision)) }
        try await store.putPackage(OPackage(name: "shop", version: "2"), guard: .any)
        let current = try #require(try await store.deployment("cart"))
        await #expect(throws: KVStoreError.conflict("packages/shop")) {
            try await store.putDeployment(DeploymentWrite(record: record), guard: .revision(current.revision), packageRevision: package)
        }

        // Read-modify-write retries until it applies.
        let changed = try await store.updateDeployment("cart") { write in
            write.record.condition = .running
            return true
        }
        #expect(changed?.value.condition == .running)
        #expect(try await store.updateDeployment("ghost") { _ in true } == nil)

        try await store.removeDeployment(record)
        #expect(try await store.deployment("cart") == nil)
        #expect(try await store.userSpec("cart") == nil)
        #expect(try await store.deploymentKeys(ofPackage: "shop") == ["a.b"])
    }

    @Test func lmdbRestartKeepsRecords() async throws {
        let first = try await StoreUnderTest(.lmdb)
        let store = store(first)
        try await store.putPackage(OPackage(name: "keep"), guard: .create)
        var write = DeploymentWrite(record: OClassDeployment(key: "d", packageName: "keep", classKey: "C"))
        write.setMappings = ["env": "d-1234"]
        try await store.putDeployment(write, guard: .create)
        let reopened = try await first.reopened()
        let again = self.store(reopened)
        #expect(try await again.package("keep") != nil)
        #expect(try await again.mappings("d") == ["env": "d-1234"])
        withExtendedLifetime(first) {}
    }
}
