import Foundation
import Kube
import KubeTestServer
import Testing

@Suite("Finalizers and garbage collection")
struct FinalizerAndGCTests {
    static let finalizer = "oaas.io/finalizer"

    @Test func deletionWaitsForFinalizers() async throws {
        try await withKube { server, client in
            try registerClassRuntimes(server)
            let created = try await client.create(.classRuntimes, .make(.classRuntimes, "cr", spec: ["a": 1]))
            let guarded = try await client.addFinalizer(Self.finalizer, to: created, resource: .classRuntimes)
            #expect(guarded.finalizers == [Self.finalizer])

            let pending = try await client.delete(.classRuntimes, namespace: "test", name: "cr")
            #expect(pending?.isBeingDeleted == true)
            let deleting = try await client.get(.classRuntimes, namespace: "test", name: "cr")
            #expect(deleting.deletionTimestamp != nil)
            #expect(deleting.generation == 2)

            // No new finalizers while deleting.
            await expectKubeError(422) {
                try await client.addFinalizer("oaas.io/other", to: deleting, resource: .classRuntimes)
            }
            // Deleting again changes nothing.
            try await client.delete(.classRuntimes, namespace: "test", name: "cr")
            let unchanged = try await client.get(.classRuntimes, namespace: "test", name: "cr")
            #expect(unchanged.resourceVersion == deleting.resourceVersion)

            // Removing the finalizer from a stale copy is a conflict (spec §9.6: guarded by resourceVersion).
            await expectKubeError(409) {
                try await client.removeFinalizer(Self.finalizer, from: guarded, resource: .classRuntimes)
            }
            try await client.removeFinalizer(Self.finalizer, from: deleting, resource: .classRuntimes)
            #expect(try await client.getIfPresent(.classRuntimes, namespace: "test", name: "cr") == nil)
        }
    }

    @Test func deletePreconditions() async throws {
        try await withKube { _, client in
            let created = try await client.create(.configMaps, configMap("c"))
            await expectKubeError(409) {
                try await client.delete(.configMaps, namespace: "test", name: "c", preconditionResourceVersion: "1")
            }
            await expectKubeError(409) {
                try await client.delete(.configMaps, namespace: "test", name: "c", preconditionUID: "other")
            }
            let gone = try await client.delete(.configMaps, namespace: "test", name: "c",
                                               preconditionResourceVersion: created.resourceVersion,
                                               preconditionUID: created.uid)
            #expect(gone == nil)
            await expectKubeError(404) { try await client.delete(.configMaps, namespace: "test", name: "c") }
        }
    }

    /// Children owned by a ClassRuntime (spec §11.2: controller ownerReference on every child).
    private func makeChildren(_ client: KubeClient, owner: KubeObject, names: [String]) async throws {
        let reference = try #require(owner.ownerReference())
        for name in names {
            var child = deployment(name, labels: ["oaas.io/owner": owner.name])
            child.ownerReferences = [reference]
            try await client.create(.deployments, child)
        }
    }

    @Test func backgroundDeletionCollectsChildren() async throws {
        try await withKube(quietServer(garbageCollectionDelay: .milliseconds(20))) { server, client in
            try registerClassRuntimes(server)
            let owner = try await client.create(.classRuntimes, .make(.classRuntimes, "cr", spec: ["a": 1]))
            try await makeChildren(client, owner: owner, names: ["cr-fn-a", "cr-odgm"])
            var survivor = configMap("unrelated")
            survivor.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "not-an-owner")]
            try await client.create(.configMaps, survivor)

            try await client.delete(.classRuntimes, namespace: "test", name: "cr", propagationPolicy: .background)
            #expect(try await client.getIfPresent(.classRuntimes, namespace: "test", name: "cr") == nil)
            #expect(await server.waitForGarbageCollection())
            #expect(try await client.list(.deployments, namespace: "test").items.isEmpty)
            #expect(try await client.getIfPresent(.configMaps, namespace: "test", name: "unrelated") != nil)
        }
    }

    @Test func childWithAnotherLiveOwnerSurvives() async throws {
        try await withKube { server, client in
            try registerClassRuntimes(server)
            let first = try await client.create(.classRuntimes, .make(.classRuntimes, "one", spec: ["a": 1]))
            let second = try await client.create(.classRuntimes, .make(.classRuntimes, "two", spec: ["a": 1]))
            var child = configMap("shared-child")
            child.ownerReferences = [try #require(first.ownerReference(controller: false)),
                                     try #require(second.ownerReference(controller: false))]
            try await client.create(.configMaps, child)

            try await client.delete(.classRuntimes, namespace: "test", name: "one")
            #expect(await server.waitForGarbageCollection())
            let remaining = try await client.get(.configMaps, namespace: "test", name: "shared-child")
            #expect(remaining.ownerReferences.map(\.name) == ["two"])
        }
    }

    @Test func foregroundDeletionWaitsForBlockingChildren() async throws {
        try await withKube { server, client in
            try registerClassRuntimes(server)
            let owner = try await client.create(.classRuntimes, .make(.classRuntimes, "cr", spec: ["a": 1]))
            try await makeChildren(client, owner: owner, names: ["cr-fn"])
            // A child finalizer keeps the child, and so the owner, around.
            let child = try await client.get(.deployments, namespace: "test", name: "cr-fn")
            try await client.addFinalizer("example.com/hold", to: child, resource: .deployments)

            let pending = try await client.delete(.classRuntimes, namespace: "test", name: "cr",
                                                  propagationPolicy: .foreground)
            #expect(pending?.finalizers.contains("foregroundDeletion") == true)
            #expect(await server.waitForGarbageCollection())
            let held = try await client.get(.deployments, namespace: "test", name: "cr-fn")
            #expect(held.isBeingDeleted)
            #expect(try await client.getIfPresent(.classRuntimes, namespace: "test", name: "cr") != nil)

            try await client.removeFinalizer("example.com/hold", from: held, resource: .deployments)
            try await eventually(.seconds(5), "owner removed after its child") {
                try await client.getIfPresent(.classRuntimes, namespace: "test", name: "cr") == nil
            }
        }
    }

    @Test func orphanDeletionKeepsChildren() async throws {
        try await withKube { server, client in
            try registerClassRuntimes(server)
            let owner = try await client.create(.classRuntimes, .make(.classRuntimes, "cr", spec: ["a": 1]))
            try await makeChildren(client, owner: owner, names: ["cr-fn"])
            try await client.delete(.classRuntimes, namespace: "test", name: "cr", propagationPolicy: .orphan)
            #expect(await server.waitForGarbageCollection())
            let orphan = try await client.get(.deployments, namespace: "test", name: "cr-fn")
            #expect(orphan.ownerReferences.isEmpty)
        }
    }

    @Test func deleteCollectionBySelector() async throws {
        try await withKube { _, client in
            try await client.create(.configMaps, configMap("a", labels: ["oaas.io/owner": "x"]))
            try await client.create(.configMaps, configMap("b", labels: ["oaas.io/owner": "x"]))
            try await client.create(.configMaps, configMap("c", labels: ["oaas.io/owner": "y"]))
            try await client.deleteCollection(.configMaps, namespace: "test", labelSelector: ["oaas.io/owner": "x"])
            #expect(try await client.list(.configMaps, namespace: "test").items.map(\.name) == ["c"])
        }
    }
}
