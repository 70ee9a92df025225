import Foundation
import Kube
import KubeTestServer
import Testing

@Suite("Kube client: CRUD, concurrency, selectors, patches")
struct CRUDTests {
    @Test func createGetReplaceDelete() async throws {
        try await withKube { server, client in
            let created = try await client.create(.configMaps, configMap("settings", data: ["a": "1"]))
            #expect(created.name == "settings")
            #expect(created.namespace == "test")
            #expect(created.uid?.isEmpty == false)
            #expect(created.creationTimestamp != nil)
            #expect(created.generation == 1)
            #expect(created.apiVersion == "v1" && created.kind == "ConfigMap")
            let version = try #require(created.resourceVersion)

            var fetched = try await client.get(.configMaps, namespace: "test", name: "settings")
            #expect(fetched.value(at: "data", "a") == "1")
            #expect(fetched.resourceVersion == version)

            fetched["data"] = ["a": "2"]
            let replaced = try await client.replace(.configMaps, fetched)
            #expect(replaced.value(at: "data", "a") == "2")
            #expect(replaced.uid == created.uid)
            #expect(replaced.resourceVersion != version)

            try await client.delete(.configMaps, namespace: "test", name: "settings")
            #expect(try await client.getIfPresent(.configMaps, namespace: "test", name: "settings") == nil)
            #expect(server.object("configmaps", namespace: "test", name: "settings") == nil)
        }
    }

    @Test func typedErrorsCarryTheStatus() async throws {
        try await withKube { _, client in
            let missing = await expectKubeError(404) {
                _ = try await client.get(.deployments, namespace: "test", name: "nope")
            }
            #expect(missing?.status?.reason == "NotFound")
            #expect(missing?.status?.message?.contains("nope") == true)

            try await client.create(.configMaps, configMap("dup"))
            let duplicate = await expectKubeError(409) { try await client.create(.configMaps, configMap("dup")) }
            #expect(duplicate?.status?.reason == "AlreadyExists")

            let invalid = await expectKubeError(422) {
                try await client.create(.configMaps, configMap("bad", labels: ["app": "no spaces allowed"]))
            }
            #expect(invalid?.status?.reason == "Invalid")
            await expectKubeError(422) { try await client.create(.configMaps, configMap("Upper_Case")) }
            await expectKubeError(404) {
                _ = try await client.list(KubeResource(group: "nope.io", version: "v1", resource: "things",
                                                       kind: "Thing"), namespace: "test")
            }
        }
    }

    @Test func staleResourceVersionIsAConflict() async throws {
        try await withKube { _, client in
            let original = try await client.create(.configMaps, configMap("shared", data: ["v": "0"]))
            var first = original
            first["data"] = ["v": "1"]
            try await client.replace(.configMaps, first)

            var stale = original
            stale["data"] = ["v": "2"]
            let conflict = await expectKubeError(409) { try await client.replace(.configMaps, stale) }
            #expect(conflict?.isConflict == true)
            #expect(conflict?.status?.reason == "Conflict")
            #expect(try await client.get(.configMaps, namespace: "test", name: "shared").value(at: "data", "v") == "1")

            // Without a resourceVersion a built-in kind accepts an unconditional update...
            stale.resourceVersion = nil
            try await client.replace(.configMaps, stale)
            #expect(try await client.get(.configMaps, namespace: "test", name: "shared").value(at: "data", "v") == "2")
        }
    }

    @Test func customResourcesRefuseUnconditionalUpdates() async throws {
        try await withKube { server, client in
            try registerClassRuntimes(server)
            var object = try await client.create(.classRuntimes, .make(.classRuntimes, "cr", spec: ["x": 1]))
            object.resourceVersion = nil
            await expectKubeError(422) { try await client.replace(.classRuntimes, object) }
        }
    }

    @Test func generationCountsSpecChangesOnly() async throws {
        try await withKube { _, client in
            let created = try await client.create(.deployments, deployment("web"))
            #expect(created.generation == 1)
            var labelled = created
            labelled.labels = ["team": "a"]
            let afterLabels = try await client.replace(.deployments, labelled)
            #expect(afterLabels.generation == 1)
            #expect(afterLabels.resourceVersion != created.resourceVersion)

            var scaled = afterLabels
            scaled.setValue(3, at: "spec", "replicas")
            let afterSpec = try await client.replace(.deployments, scaled)
            #expect(afterSpec.generation == 2)

            // Writing the same object again changes nothing: no new resourceVersion.
            let again = try await client.replace(.deployments, afterSpec)
            #expect(again.resourceVersion == afterSpec.resourceVersion)
        }
    }

    @Test func labelSelectors() async throws {
        try await withKube { _, client in
            try await client.create(.configMaps, configMap("a", labels: ["app": "x", "tier": "web"]))
            try await client.create(.configMaps, configMap("b", labels: ["app": "y", "tier": "db"]))
            try await client.create(.configMaps, configMap("c", labels: ["app": "z"]))
            try await client.create(.configMaps, configMap("d"))

            func names(_ selector: LabelSelector) async throws -> [String] {
                try await client.list(.configMaps, namespace: "test", labelSelector: selector).items.map(\.name)
            }
            #expect(try await names(["app": "x"]) == ["a"])
            #expect(try await names(LabelSelector([.notEquals("app", "x")])) == ["b", "c", "d"])
            #expect(try await names(LabelSelector([.in("app", ["x", "z"])])) == ["a", "c"])
            #expect(try await names(LabelSelector([.notIn("app", ["x", "z"])])) == ["b", "d"])
            #expect(try await names(LabelSelector([.exists("tier")])) == ["a", "b"])
            #expect(try await names(LabelSelector([.doesNotExist("tier")])) == ["c", "d"])
            #expect(try await names(LabelSelector([.exists("app"), .notIn("tier", ["db"])])) == ["a", "c"])
            #expect(LabelSelector([.in("app", ["x", "z"]), .doesNotExist("t")]).description == "app in (x,z),!t")
            #expect(LabelSelector([.in("app", ["x"])]).matches(["app": "x"]))

            // Other namespaces stay out; all-namespaces lists see them.
            try await client.create(.configMaps, KubeObject.make(.configMaps, "e", namespace: "other",
                                                                labels: ["app": "x"]))
            #expect(try await names(["app": "x"]) == ["a"])
            let everywhere = try await client.list(.configMaps, namespace: nil, labelSelector: ["app": "x"])
            #expect(everywhere.items.map(\.name) == ["e", "a"])
            let byName = try await client.list(.configMaps, namespace: "test", fieldSelector: "metadata.name=b")
            #expect(byName.items.map(\.name) == ["b"])
        }
    }

    @Test func paginationWithContinue() async throws {
        try await withKube { server, client in
            for index in 0..<7 { try await client.create(.configMaps, configMap("item-\(index)")) }
            let first = try await client.list(.configMaps, namespace: "test", limit: 3)
            #expect(first.items.count == 3)
            let token = try #require(first.continueToken)
            let all = try await client.listAll(.configMaps, namespace: "test", pageSize: 3)
            #expect(all.items.map(\.name) == (0..<7).map { "item-\($0)" })
            // Compaction past the first page's version expires its continue token.
            try await client.create(.configMaps, configMap("late"))
            server.compactHistory()
            await expectKubeError(410) {
                _ = try await client.list(.configMaps, namespace: "test", limit: 3, continueToken: token)
            }
        }
    }

    @Test func mergeAndJSONPatches() async throws {
        try await withKube { _, client in
            let created = try await client.create(.configMaps, configMap("p", labels: ["keep": "yes", "drop": "yes"],
                                                                   data: ["a": "1"]))
            let merged = try await client.mergePatch(.configMaps, namespace: "test", name: "p", [
                "metadata": ["labels": ["drop": .null, "new": "1"]], "data": ["b": "2"],
            ])
            #expect(merged.labels == ["keep": "yes", "new": "1"])
            #expect(merged.value(at: "data") == ["a": "1", "b": "2"])

            // A resourceVersion in the patch makes it conditional.
            await expectKubeError(409) {
                try await client.mergePatch(.configMaps, namespace: "test", name: "p", [
                    "metadata": ["resourceVersion": .string(created.resourceVersion ?? "")], "data": ["c": "3"],
                ])
            }

            let patched = try await client.jsonPatch(.configMaps, namespace: "test", name: "p", [
                .add(path: JSONPatchOperation.pointer("metadata", "annotations"), value: ["oaas.io/x": "1"]),
                .replace(path: "/data/a", value: "10"),
                .remove(path: "/data/b"),
                .copy(from: "/data/a", path: "/data/copy"),
            ])
            #expect(patched.annotations == ["oaas.io/x": "1"])
            #expect(patched.value(at: "data") == ["a": "10", "copy": "10"])
            #expect(JSONPatchOperation.pointer("metadata", "annotations", "oaas.io/x") == "/metadata/annotations/oaas.io~1x")

            await expectKubeError(422) {
                try await client.jsonPatch(.configMaps, namespace: "test", name: "p", [.test(path: "/data/a", value: "1")])
            }
            await expectKubeError(422) {
                try await client.jsonPatch(.configMaps, namespace: "test", name: "p", [.remove(path: "/data/missing")])
            }
            await expectKubeError(409) {
                try await client.jsonPatch(.configMaps, namespace: "test", name: "p", [
                    .replace(path: "/metadata/resourceVersion", value: .string(created.resourceVersion ?? "")),
                    .add(path: "/data/z", value: "1"),
                ])
            }
        }
    }

    @Test func discovery() async throws {
        try await withKube { server, client in
            #expect(try await client.serverResources(groupVersion: "apps/v1").contains("deployments"))
            #expect(try await client.serverResources(groupVersion: "v1").contains("pods"))
            await expectKubeError(404) { _ = try await client.serverResources(groupVersion: "serving.knative.dev/v1") }
            try server.registerCustomResource(group: "serving.knative.dev", version: "v1", kind: "Service",
                                              plural: "services")
            #expect(try await client.serverResources(groupVersion: "serving.knative.dev/v1") == ["services", "services/status"])
        }
    }

    @Test func bearerTokenFromConfiguration() async throws {
        try await withKube { server, _ in
            server.setRequiredToken("sesame")
            let anonymous = try KubeClient(configuration: KubeConfig(server: server.url), logger: quietLogger())
            let authorised = try KubeClient(configuration: KubeConfig(server: server.url, credentials: .bearerToken("sesame")),
                                            logger: quietLogger())
            await expectKubeError(401) { _ = try await anonymous.list(.pods, namespace: "test") }
            #expect(try await authorised.list(.pods, namespace: "test").items.isEmpty)
            try await anonymous.shutdown()
            try await authorised.shutdown()
        }
    }

    @Test func unreachableServerIsATransportError() async throws {
        let client = try KubeClient(configuration: KubeConfig(server: "http://127.0.0.1:1"),
                                    requestTimeout: .seconds(2), logger: quietLogger())
        do {
            _ = try await client.list(.pods, namespace: "x")
            Issue.record("expected a transport error")
        } catch let error as KubeError {
            guard case .transport = error else {
                Issue.record("expected transport, got \(error)")
                try await client.shutdown()
                return
            }
            #expect(error.isTransient)
        }
        try await client.shutdown()
    }
}
