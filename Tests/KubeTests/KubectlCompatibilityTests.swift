import Foundation
import Kube
import KubeTestServer
import Testing

/// `kubectl` on PATH, if any.
let kubectlPath: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/kubectl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// The real Kubernetes client against the test server: a check of the server's fidelity independent of our own
/// client. Skipped when `kubectl` is not installed.
@Suite("Test server: kubectl compatibility", .enabled(if: kubectlPath != nil, "kubectl is not installed"))
struct KubectlCompatibilityTests {

    /// Runs kubectl (bounded by its own request timeout) without blocking a concurrency thread the test server needs.
    private func run(_ directory: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await K8sManifests.kubectl(["--kubeconfig", directory + "/kubeconfig", "--cache-dir", directory + "/cache",
                                        "--request-timeout=5s"] + arguments)
    }

    @Test func serverSideApplyLabelGetAndDelete() async throws {
        try await withTemporaryDirectory { directory in
            try await KubeTestServer.withRunning(quietServer()) { server in
                try server.writeKubeconfig(to: directory + "/kubeconfig", namespace: "test")
                try server.registerCRD([
                    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": ["name": "classruntimes.oaas.io"],
                    "spec": ["group": "oaas.io", "scope": "Namespaced",
                             "names": ["kind": "ClassRuntime", "plural": "classruntimes", "shortNames": ["crt"]],
                             "versions": [["name": "v1alpha1", "served": true, "storage": true,
                                           "subresources": ["status": [:]]]]],
                ])
                try write("""
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: web, labels: {app: web}}
                    spec:
                      replicas: 2
                      selector: {matchLabels: {app: web}}
                      template:
                        metadata: {labels: {app: web}}
                        spec: {containers: [{name: c, image: nginx}]}
                    """, to: directory + "/deployment.yaml")

                let applied = try await run(directory, ["apply", "--server-side", "--validate=false", "-f",
                                                  directory + "/deployment.yaml"])
                #expect(applied.status == 0, "\(applied.output)")
                #expect(try await run(directory, ["label", "deploy", "web", "tier=front"]).status == 0)
                let fetched = try await run(directory, ["get", "deploy", "web", "-o", "json", "--show-managed-fields"])
                #expect(fetched.status == 0, "\(fetched.output)")
                let object = try #require(TestJSON.parse(json: Array(fetched.output.utf8)))
                #expect(object.value(at: "metadata", "labels", "tier") == "front")
                let managers = object.value(at: "metadata", "managedFields")?.arrayValue?
                    .compactMap { $0["manager"]?.stringValue } ?? []
                #expect(managers == ["kubectl", "kubectl-label"])

                #expect(try await run(directory, ["get", "crt"]).status == 0)
                #expect(try await run(directory, ["delete", "deploy", "web"]).status == 0)
                #expect(server.object("deployments.apps", namespace: "test", name: "web") == nil)
            }
        }
    }
}
