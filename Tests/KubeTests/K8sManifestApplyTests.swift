import Foundation
import Kube
import KubeTestServer
import Testing

/// Every object `k8s/` renders is accepted by an API server (names, labels, namespaces, the CRD), in output order,
/// and the CRD it ships then serves ClassRuntimes in every environment namespace.
@Suite("k8s/ manifests on an API server", .enabled(if: kubectlPath != nil, "kubectl is not installed"))
struct K8sManifestApplyTests {
    static let rbacGroup = "rbac.authorization.k8s.io"

    /// The REST resource of each kind `k8s/` uses, by `apiVersion kind`.
    static let resources: [String: KubeResource] = {
        let rbac: [KubeResource] = [
            KubeResource(group: rbacGroup, version: "v1", resource: "roles", kind: "Role"),
            KubeResource(group: rbacGroup, version: "v1", resource: "rolebindings", kind: "RoleBinding"),
            KubeResource(group: rbacGroup, version: "v1", resource: "clusterroles", kind: "ClusterRole",
                         namespaced: false),
            KubeResource(group: rbacGroup, version: "v1", resource: "clusterrolebindings", kind: "ClusterRoleBinding",
                         namespaced: false),
        ]
        let known: [KubeResource] = rbac + [
            .namespaces, .customResourceDefinitions, .configMaps, .services, .persistentVolumeClaims, .deployments,
            .statefulSets, KubeResource(group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount"),
        ]
        return Dictionary(uniqueKeysWithValues: known.map { ("\($0.apiVersion) \($0.kind)", $0) })
    }()

    @Test(arguments: K8sManifests.kustomizations)
    func everyRenderedObjectIsCreated(_ kustomization: String) async throws {
        let rendered = try await K8sManifests.render(kustomization)
        try await withKube { server, client in
            try Self.serveRBAC(server)
            for object in rendered.objects {
                let key = "\(object["apiVersion"]?.stringValue ?? "") \(object.kind ?? "")"
                let resource = try #require(Self.resources[key], "no REST resource known for \(key)")
                let json = try JSONValue(jsonData: object.jsonData())
                let created = try await client.create(resource, KubeObject(json: json))
                #expect(created.name == object.name)
                #expect(created.namespace == object.namespace)
            }

            // The shipped CRD, created like any other object, now serves ClassRuntimes where the CRMs run.
            let namespaces = rendered.all("Deployment").filter { $0.name == "oaas-crm" }.compactMap(\.namespace)
            #expect(!namespaces.isEmpty)
            for namespace in namespaces {
                var runtime = KubeObject(.classRuntimes, name: "cart-1a2b3c4d", namespace: namespace)
                runtime.spec = ["package_class_key": "shop.Cart", "target_env": .string(namespace)]
                _ = try await client.create(.classRuntimes, runtime)
                _ = try await client.patchStatus(.classRuntimes, namespace: namespace, name: "cart-1a2b3c4d",
                                                 ["phase": "pending"])
                let read = try await client.get(.classRuntimes, namespace: namespace, name: "cart-1a2b3c4d")
                #expect(read.value(at: "status", "phase") == "pending")
            }
            let stored = try await client.list(.deployments, namespace: nil)
            #expect(stored.items.count == rendered.all("Deployment").count)
        }
    }

    /// What the README tells users to run, verbatim: `kubectl apply -k k8s`, twice (the second changes nothing).
    @Test(arguments: ["", "overlays/multi-env"])
    func kubectlApplyKustomization(_ kustomization: String) async throws {
        let expected = try await K8sManifests.render(kustomization).objects.count
        try await withTemporaryDirectory { directory in
            try await KubeTestServer.withRunning(quietServer()) { server in
                try server.writeKubeconfig(to: directory + "/kubeconfig")
                try Self.serveRBAC(server)
                // No OpenAPI document on the test server, hence --validate=false.
                let arguments = ["--kubeconfig", directory + "/kubeconfig", "--cache-dir", directory + "/cache",
                                 "--request-timeout=10s", "apply", "--validate=false", "-k",
                                 K8sManifests.path(kustomization)]
                let first = try await K8sManifests.kubectl(arguments)
                #expect(first.status == 0, "\(first.output)")
                #expect(first.output.split(separator: "\n").filter { $0.hasSuffix(" created") }.count == expected,
                        "\(first.output)")
                let second = try await K8sManifests.kubectl(arguments)
                #expect(second.status == 0, "\(second.output)")
                #expect(second.output.split(separator: "\n").allSatisfy { $0.hasSuffix(" unchanged") },
                        "\(second.output)")
                #expect(server.object("deployments.apps", namespace: "oaas", name: "oaas-pm") != nil)
                #expect(server.object("roles.rbac.authorization.k8s.io", namespace: "oaas-1", name: "oaas-crm") != nil)
            }
        }
    }

    /// The test server implements no RBAC API; serve its four kinds as plain resources so names, labels and
    /// namespaces of the Roles and bindings are still validated on create.
    static func serveRBAC(_ server: KubeTestServer) throws {
        for resource in resources.values where resource.group == rbacGroup {
            try server.registerCustomResource(group: rbacGroup, version: resource.version, kind: resource.kind,
                                              plural: resource.resource, namespaced: resource.namespaced,
                                              statusSubresource: false)
        }
    }
}
