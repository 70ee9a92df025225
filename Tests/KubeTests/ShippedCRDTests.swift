import Foundation
import Kube
import KubeTestServer
import Testing

/// The CRD that `k8s/` ships is the one the platform uses: it registers, serves `ClassRuntime`
/// objects with a status subresource, and the kustomization renders it.
@Suite struct ShippedCRDTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func shippedCRDServesClassRuntimesWithStatus() async throws {
        try await withKube { server, client in
            try server.registerCRDs(file: Self.root.appendingPathComponent("k8s/crd/classruntimes.oaas.io.yaml").path)
            var runtime = KubeObject(.classRuntimes, name: "cart-1a2b3c4d", namespace: "test")
            runtime.spec = ["package_class_key": "shop.Cart", "target_env": "oaas-1", "odgm_config": ["partition_count": 4]]
            let created = try await client.create(.classRuntimes, runtime)
            #expect(created.value(at: "spec", "package_class_key") == "shop.Cart")
            // Status goes through the subresource only.
            _ = try await client.patchStatus(.classRuntimes, namespace: "test", name: "cart-1a2b3c4d", ["phase": "progressing", "ready": "0/2"])
            let read = try await client.get(.classRuntimes, namespace: "test", name: "cart-1a2b3c4d")
            #expect(read.value(at: "status", "phase") == "progressing")
            #expect(read.value(at: "spec", "target_env") == "oaas-1")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl"), "kubectl is not installed"))
    func kustomizationRendersTheCRD() async throws {
        let (status, rendered) = try await K8sManifests.kubectl(["kustomize", Self.root.appendingPathComponent("k8s").path])
        #expect(status == 0)
        #expect(rendered.contains("name: classruntimes.oaas.io"))
        #expect(rendered.contains("kind: Deployment"))
    }
}
