import Foundation
import Kube
import KubeTestServer
import Testing

@Suite("Server-side apply: ownership and conflicts")
struct ServerSideApplyTests {
    static let crm = "oprc-crm"
    static let enforcer = "oprc-crm-enforcer"

    private func entry(_ object: KubeObject, _ manager: String, operation: String = "Apply") -> ManagedFieldsEntry? {
        object.managedFields.first { $0.manager == manager && $0.operation == operation }
    }

    @Test func applyCreatesThenIsIdempotent() async throws {
        try await withKube { server, client in
            let created = try await client.apply(.deployments, deployment("fn", replicas: 2), fieldManager: Self.crm)
            #expect(created.generation == 1)
            let mine = try #require(entry(created, Self.crm))
            #expect(mine.fieldsV1?.value(at: "f:spec", "f:replicas") == [:])
            #expect(mine.fieldsV1?.value(at: "f:spec", "f:template", "f:spec", "f:containers",
                                         #"k:{"name":"function"}"#, "f:image") == [:])
            let request = try #require(server.recordedRequests().last)
            #expect(request.method == "PATCH")
            #expect(request.contentType == "application/apply-patch+yaml")
            #expect(request.query["fieldManager"] == Self.crm && request.query["force"] == "true")

            let again = try await client.apply(.deployments, deployment("fn", replicas: 2), fieldManager: Self.crm)
            #expect(again.resourceVersion == created.resourceVersion)
        }
    }

    @Test func conflictsUnlessForced() async throws {
        try await withKube { _, client in
            try await client.apply(.deployments, deployment("fn", replicas: 1), fieldManager: Self.crm)
            var scale = KubeObject.make(.deployments, "fn")
            scale.spec = ["replicas": 3]

            let conflict = await expectKubeError(409) {
                try await client.apply(.deployments, scale, fieldManager: Self.enforcer, force: false)
            }
            #expect(conflict?.status?.reason == "Conflict")
            #expect(conflict?.status?.details?.causes?.first?.field == ".spec.replicas")
            #expect(conflict?.status?.message?.contains("\"\(Self.crm)\"") == true)

            let forced = try await client.apply(.deployments, scale, fieldManager: Self.enforcer, force: true)
            #expect(forced.value(at: "spec", "replicas") == 3)
            #expect(entry(forced, Self.enforcer)?.fieldsV1?.value(at: "f:spec", "f:replicas") != nil)
            #expect(entry(forced, Self.crm)?.fieldsV1?.value(at: "f:spec", "f:replicas") == nil)

            // The reconciler leaves enforced fields out of its apply, so it does not revert them...
            var withoutReplicas = deployment("fn", image: "app:2")
            withoutReplicas.setValue(nil, at: "spec", "replicas")
            let reconciled = try await client.apply(.deployments, withoutReplicas, fieldManager: Self.crm, force: false)
            #expect(reconciled.value(at: "spec", "replicas") == 3)
            #expect(reconciled.value(at: "spec", "template", "spec", "containers")?[0]?["image"] == "app:2")
            // ...and would conflict if it tried without force.
            await expectKubeError(409) {
                try await client.apply(.deployments, deployment("fn", replicas: 1), fieldManager: Self.crm, force: false)
            }
        }
    }

    @Test func equalValuesShareOwnershipAndOmittedFieldsGo() async throws {
        try await withKube { _, client in
            try await client.apply(.configMaps, configMap("cm", labels: ["shared": "1", "only-a": "1"],
                                                          data: ["k": "v", "gone": "x"]), fieldManager: "a")
            // Same value, other manager, no force: no conflict, both own it.
            let shared = try await client.apply(.configMaps, configMap("cm", labels: ["shared": "1"]),
                                                fieldManager: "b", force: false)
            #expect(entry(shared, "a")?.fieldsV1?.value(at: "f:metadata", "f:labels", "f:shared") != nil)
            #expect(entry(shared, "b")?.fieldsV1?.value(at: "f:metadata", "f:labels", "f:shared") != nil)

            // "a" drops fields: those only "a" owned disappear; the co-owned one stays.
            let after = try await client.apply(.configMaps, configMap("cm", data: ["k": "v"]), fieldManager: "a")
            #expect(after.labels == ["shared": "1"])
            #expect(after.value(at: "data") == ["k": "v"])
        }
    }

    @Test func containersMergeByName() async throws {
        try await withKube { _, client in
            try await client.apply(.deployments, deployment("fn", image: "app:1"), fieldManager: Self.crm)
            var requests = KubeObject.make(.deployments, "fn")
            requests.spec = ["template": ["spec": ["containers": [
                ["name": "function", "resources": ["requests": ["cpu": "250m"]]],
            ]]]]
            let enforced = try await client.apply(.deployments, requests, fieldManager: Self.enforcer, force: false)
            let container = enforced.value(at: "spec", "template", "spec", "containers")?[0]
            #expect(container?["image"] == "app:1")
            #expect(container?.value(at: "resources", "requests", "cpu") == "250m")

            let rolled = try await client.apply(.deployments, deployment("fn", image: "app:2"), fieldManager: Self.crm)
            let containers = rolled.value(at: "spec", "template", "spec", "containers")?.arrayValue ?? []
            #expect(containers.count == 1)
            #expect(containers.first?["image"] == "app:2")
            #expect(containers.first?.value(at: "resources", "requests", "cpu") == "250m")
            #expect(rolled.generation == 3)
        }
    }

    @Test func updatesTakeOwnershipWithoutConflict() async throws {
        try await withKube { _, client in
            try await client.apply(.deployments, deployment("fn", replicas: 1), fieldManager: Self.crm)
            let patched = try await client.mergePatch(.deployments, namespace: "test", name: "fn", ["spec": ["replicas": 5]])
            #expect(patched.value(at: "spec", "replicas") == 5)
            #expect(entry(patched, "kube-tests", operation: "Update")?.fieldsV1?.value(at: "f:spec", "f:replicas") != nil)
            let conflict = await expectKubeError(409) {
                try await client.apply(.deployments, deployment("fn", replicas: 1), fieldManager: Self.crm, force: false)
            }
            #expect(conflict?.status?.message?.contains("kube-tests") == true)
        }
    }

    @Test func applyRejectsMismatchedIdentity() async throws {
        try await withKube { _, client in
            var wrongKind = deployment("fn")
            wrongKind.kind = "StatefulSet"
            await expectKubeError(400) { try await client.apply(.deployments, wrongKind, fieldManager: Self.crm) }
            // Apply creates through the main resource only.
            await expectKubeError(404) {
                try await client.apply(.deployments, deployment("absent"), fieldManager: Self.crm, subresource: "status")
            }
        }
    }
}
