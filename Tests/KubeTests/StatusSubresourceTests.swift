import Foundation
import Kube
import KubeTestServer
import Testing

@Suite("Status subresource and CRD registration")
struct StatusSubresourceTests {
    @Test func crdRegistrationServesTheResource() async throws {
        try await withKube { server, client in
            await expectKubeError(404) { _ = try await client.list(.classRuntimes, namespace: "test") }
            // Registered through the API, as `kubectl apply -f k8s/crd/...` would.
            var crd = KubeObject(.customResourceDefinitions, name: "classruntimes.oaas.io")
            crd.spec = [
                "group": "oaas.io", "scope": "Namespaced",
                "names": ["kind": "ClassRuntime", "plural": "classruntimes", "singular": "classruntime",
                          "shortNames": ["crt"]],
                "versions": [[
                    "name": "v1alpha1", "served": true, "storage": true, "subresources": ["status": [:]],
                    "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                ]],
            ]
            let created = try await client.create(.customResourceDefinitions, crd)
            let established = created.value(at: "status", "conditions")?.arrayValue?.contains {
                $0["type"] == "Established" && $0["status"] == "True"
            }
            #expect(established == true)
            #expect(try await client.list(.classRuntimes, namespace: "test").items.isEmpty)
            #expect(server.object("customresourcedefinitions.apiextensions.k8s.io", name: "classruntimes.oaas.io") != nil)

            // A CRD whose name does not match its spec is invalid.
            var bad = crd
            bad.name = "wrong.oaas.io"
            await expectKubeError(422) { try await client.create(.customResourceDefinitions, bad) }

            // Deleting the CRD deletes its objects and stops serving it.
            try await client.create(.classRuntimes, .make(.classRuntimes, "x", spec: ["a": 1]))
            try await client.delete(.customResourceDefinitions, namespace: nil, name: "classruntimes.oaas.io")
            await expectKubeError(404) { _ = try await client.list(.classRuntimes, namespace: "test") }
            #expect(server.objects("classruntimes.oaas.io").isEmpty)
        }
    }

    @Test func statusAndSpecAreSeparated() async throws {
        try await withKube { server, client in
            try registerClassRuntimes(server)
            var object = KubeObject.make(.classRuntimes, "cr", spec: ["functions": ["f"]])
            object.status = ["phase": "bogus"]
            let created = try await client.create(.classRuntimes, object)
            #expect(created.status == nil)

            let withStatus = try await client.patchStatus(.classRuntimes, namespace: "test", name: "cr",
                                                          ["phase": "pending", "observed_generation": 1])
            #expect(withStatus.value(at: "status", "phase") == "pending")
            #expect(withStatus.generation == 1)
            #expect(withStatus.resourceVersion != created.resourceVersion)

            // Spec sent to /status is ignored...
            var viaStatus = withStatus
            viaStatus.spec = ["functions": ["changed"]]
            viaStatus.setValue("applying", at: "status", "phase")
            let afterStatusPut = try await client.replace(.classRuntimes, viaStatus, subresource: "status")
            #expect(afterStatusPut.spec == ["functions": ["f"]])
            #expect(afterStatusPut.value(at: "status", "phase") == "applying")
            #expect(afterStatusPut.generation == 1)

            // ...and status sent to the main resource is ignored.
            var viaMain = afterStatusPut
            viaMain.spec = ["functions": ["g"]]
            viaMain.setValue("available", at: "status", "phase")
            let afterMainPut = try await client.replace(.classRuntimes, viaMain)
            #expect(afterMainPut.spec == ["functions": ["g"]])
            #expect(afterMainPut.value(at: "status", "phase") == "applying")
            #expect(afterMainPut.generation == 2)

            // Server-side apply of status through the subresource.
            var statusApply = KubeObject.make(.classRuntimes, "cr")
            statusApply.status = ["phase": "available", "ready": "1/1"]
            let applied = try await client.apply(.classRuntimes, statusApply, fieldManager: "oprc-crm",
                                                 subresource: "status")
            #expect(applied.value(at: "status", "ready") == "1/1")
            #expect(applied.managedFields.contains { $0.manager == "oprc-crm" && $0.subresource == "status" })
            #expect(applied.generation == 2)
        }
    }

    @Test func builtinStatusIsWrittenByControllersOnly() async throws {
        try await withKube { server, client in
            let created = try await client.create(.deployments, deployment("web", replicas: 2))
            let ignored = try await client.mergePatch(.deployments, namespace: "test", name: "web",
                                                      ["status": ["readyReplicas": 2]])
            #expect(ignored.status == nil)
            #expect(ignored.resourceVersion == created.resourceVersion)

            let ready = try server.markDeploymentReady(namespace: "test", name: "web")
            #expect(ready.value(at: "status", "readyReplicas") == 2)
            let fetched = try await client.get(.deployments, namespace: "test", name: "web")
            #expect(fetched.value(at: "status", "observedGeneration") == 1)
            #expect(fetched.value(at: "status", "availableReplicas") == 2)
            #expect(fetched.generation == 1)
        }
    }

    @Test func withoutStatusSubresourceStatusIsPartOfTheObject() async throws {
        try await withKube { server, client in
            try server.registerCustomResource(group: "example.io", version: "v1", kind: "Plain", plural: "plains",
                                              statusSubresource: false)
            let plains = KubeResource(group: "example.io", version: "v1", resource: "plains", kind: "Plain")
            var object = KubeObject.make(plains, "p", spec: ["a": 1])
            object.status = ["phase": "x"]
            let created = try await client.create(plains, object)
            #expect(created.value(at: "status", "phase") == "x")
            await expectKubeError(404) {
                try await client.patchStatus(plains, namespace: "test", name: "p", ["phase": "y"])
            }
            let patched = try await client.mergePatch(plains, namespace: "test", name: "p", ["status": ["phase": "y"]])
            #expect(patched.value(at: "status", "phase") == "y")
            #expect(patched.generation == 2)
        }
    }

    @Test func crdFromAYAMLFileDrivesApplyListSemantics() async throws {
        try await withTemporaryDirectory { directory in
            try write("""
                # comment before the first document
                ---
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: classruntimes.oaas.io
                spec:
                  group: oaas.io
                  scope: Namespaced
                  names: {kind: ClassRuntime, plural: classruntimes, singular: classruntime, shortNames: [crt]}
                  versions:
                  - name: v1alpha1
                    served: true
                    storage: true
                    subresources: {status: {}}
                    schema:
                      openAPIV3Schema:
                        type: object
                        properties:
                          spec:
                            type: object
                            properties:
                              addons: {type: array, items: {type: string}}
                              functions:
                                type: array
                                x-kubernetes-list-type: map
                                x-kubernetes-list-map-keys: [function_key]
                                items: {type: object, x-kubernetes-preserve-unknown-fields: true}
                """, to: directory + "/crd.yaml")
            try await withKube { server, client in
                try server.registerCRDs(file: directory + "/crd.yaml")
                try await client.apply(.classRuntimes, .make(.classRuntimes, "cr", spec: [
                    "addons": ["odgm"], "functions": [["function_key": "a", "image": "x:1"]],
                ]), fieldManager: "oprc-crm")
                // Map-list elements merge by key across managers...
                let merged = try await client.apply(.classRuntimes, .make(.classRuntimes, "cr", spec: [
                    "functions": [["function_key": "a", "replicas": 2], ["function_key": "b", "image": "y:1"]],
                ]), fieldManager: "other", force: false)
                let functions = merged.value(at: "spec", "functions")?.arrayValue ?? []
                #expect(functions.count == 2)
                #expect(functions.first?["image"] == "x:1" && functions.first?["replicas"] == 2)
                // ...while a list without a list type is atomic: a different value conflicts.
                await expectKubeError(409) {
                    try await client.apply(.classRuntimes, .make(.classRuntimes, "cr", spec: ["addons": []]),
                                           fieldManager: "other", force: false)
                }
            }
        }
    }
}
