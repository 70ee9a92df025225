import Foundation
import KubeTestServer
import Testing

/// PM and CRM as real processes (`oaas serve --role pm`, `oaas serve --role crm`) against the test API server:
/// deploy → children → ready → RUNNING; update in place with orphans removed; delete through the finalizer;
/// two CRM replicas with one leader.
@Suite(.serialized) struct ControlPlaneKubeTests {
    static let namespace = "oaas-1"

    struct Cluster {
        let kube: KubeTestServer
        let dir: String
        let kubeconfig: String

        static func start() async throws -> Cluster {
            let kube = try await KubeTestServer.start()
            try kube.registerCRDs(file: repositoryRoot.appendingPathComponent("k8s/crd/classruntimes.oaas.io.yaml").path)
            let dir = temporaryDirectory()
            let kubeconfig = (dir as NSString).appendingPathComponent("kubeconfig")
            try kube.writeKubeconfig(to: kubeconfig, namespace: namespace)
            return Cluster(kube: kube, dir: dir, kubeconfig: kubeconfig)
        }

        func crm(port: Int, extra: [String: String] = [:]) async throws -> OaasProcess {
            var environment = [
                "KUBECONFIG": kubeconfig, "OPRC_CRM_HTTP_PORT": String(port), "OPRC_CRM_K8S_NAMESPACE": namespace,
                "OPRC_CRM_ENV_NAME": namespace, "OAAS_IMAGE": "oaas:e2e", "LOG_LEVEL": "debug",
            ]
            environment.merge(extra) { _, new in new }
            return try await OaasProcess(["serve", "--role", "crm"], port: port, environment: environment)
        }

        func owned(_ resource: String, by owner: String) -> [TestJSON] {
            kube.objects(resource, namespace: namespace).filter { $0.value(at: "metadata", "labels", "oaas.io/owner")?.stringValue == owner }
        }

        func names(_ objects: [TestJSON]) -> [String] {
            objects.compactMap { $0.value(at: "metadata", "name")?.stringValue }.sorted()
        }
    }

    @Test func deployUpdateDeleteThroughPMAndCRM() async throws {
        let cluster = try await Cluster.start()
        defer { try? FileManager.default.removeItem(atPath: cluster.dir) }
        let crmPort = freePort()
        let pmPort = freePort()
        let crm = try await cluster.crm(port: crmPort)
        let pm = try await OaasProcess(["serve", "--role", "pm"], port: pmPort, environment: [
            "SERVER_PORT": String(pmPort), "STORAGE_PATH": (cluster.dir as NSString).appendingPathComponent("pm"),
            "CRM_CLUSTERS_JSON": #"[{"name":"oaas-1","url":"http://127.0.0.1:\#(crmPort)","timeout":10}]"#,
        ])
        let pmArgs = ["--pm", "http://127.0.0.1:\(pmPort)"]
        let env = ["OAAS_CONFIG_PATH": (cluster.dir as NSString).appendingPathComponent("config.yml"), "OAAS_WAIT_INTERVAL_MS": "100"]
        let example = repositoryRoot.appendingPathComponent("config/examples/shop.yaml").path

        let apply = try await cli(["package", "apply", example, "-d"] + pmArgs, environment: env)
        #expect(apply.code == 0, "\(apply)\n\(pm.log)\n\(crm.log)")

        // Deploy: one ClassRuntime, its function Deployments + Services and the ODGM StatefulSet, owned by it.
        var runtimeName = ""
        #expect(try await eventually {
            guard let runtime = cluster.kube.objects("classruntimes.oaas.io", namespace: Self.namespace).first,
                  let name = runtime.value(at: "metadata", "name")?.stringValue else { return false }
            runtimeName = name
            return cluster.owned("deployments.apps", by: name).count == 2 && cluster.owned("statefulsets.apps", by: name).count == 1
        }, "\(crm.log)")
        let runtime = try #require(cluster.kube.object("classruntimes.oaas.io", namespace: Self.namespace, name: runtimeName))
        let uid = runtime.value(at: "metadata", "uid")?.stringValue
        #expect(runtime.value(at: "metadata", "finalizers")?.arrayValue?.contains("oaas.io/finalizer") == true)
        #expect(runtime.value(at: "metadata", "annotations", "oaas.io/correlation-id")?.stringValue?.isEmpty == false)
        let statefulSet = try #require(cluster.owned("statefulsets.apps", by: runtimeName).first)
        let env0 = statefulSet.value(at: "spec", "template", "spec", "containers")?.arrayValue?.first?["env"]?.arrayValue ?? []
        let collection = env0.first { $0["name"]?.stringValue == "ODGM_COLLECTION" }?["value"]?.stringValue ?? ""
        #expect(collection.contains("\"partition_count\":4"), "\(collection)")

        // Children ready ⇒ Available ⇒ the deployment is RUNNING for PM and the CLI.
        for deployment in cluster.names(cluster.owned("deployments.apps", by: runtimeName)) {
            try cluster.kube.markDeploymentReady(namespace: Self.namespace, name: deployment)
        }
        for set in cluster.names(cluster.owned("statefulsets.apps", by: runtimeName)) {
            try cluster.kube.markStatefulSetReady(namespace: Self.namespace, name: set)
        }
        let status = try await cli(["deploy", "status", "shop-cart", "--wait", "--timeout", "30s"] + pmArgs, environment: env)
        #expect(status.code == 0, "\(status)\n\(crm.log)")
        let available = cluster.kube.object("classruntimes.oaas.io", namespace: Self.namespace, name: runtimeName)
        #expect(available?.value(at: "status", "phase")?.stringValue == "available")
        let trueConditions = (available?.value(at: "status", "conditions")?.arrayValue ?? [])
            .filter { ["Available", "Progressing", "Degraded"].contains($0["type"]?.stringValue ?? "") && $0["status"]?.stringValue == "True" }
        #expect(trueConditions.compactMap { $0["type"]?.stringValue } == ["Available"])

        // Update: the deployment now lists only Cart.total ⇒ same ClassRuntime (uid), Cart.add's objects removed.
        let update = (cluster.dir as NSString).appendingPathComponent("deployment.yaml")
        try """
            key: shop-cart
            package_name: shop
            class_key: Cart
            target_envs: [oaas-1]
            functions: [{function_key: Cart.total}]
            odgm: {partition_count: 4, shard_type: none}
            """.write(toFile: update, atomically: true, encoding: .utf8)
        let redeploy = try await cli(["deploy", "apply", update, "--overwrite"] + pmArgs, environment: env)
        #expect(redeploy.code == 0, "\(redeploy)")
        #expect(try await eventually { cluster.owned("deployments.apps", by: runtimeName).count == 1 }, "\(crm.log)")
        #expect(cluster.names(cluster.owned("deployments.apps", by: runtimeName)).allSatisfy { $0.contains("cart-total") })
        #expect(cluster.kube.object("classruntimes.oaas.io", namespace: Self.namespace, name: runtimeName)?
            .value(at: "metadata", "uid")?.stringValue == uid)
        #expect(cluster.kube.objects("classruntimes.oaas.io", namespace: Self.namespace).count == 1)

        // Delete: children go first, then the finalizer, then the ClassRuntime.
        let delete = try await cli(["deploy", "delete", "shop-cart"] + pmArgs, environment: env)
        #expect(delete.code == 0, "\(delete)")
        #expect(try await eventually {
            cluster.kube.objects("classruntimes.oaas.io", namespace: Self.namespace).isEmpty
                && cluster.owned("deployments.apps", by: runtimeName).isEmpty
                && cluster.owned("statefulsets.apps", by: runtimeName).isEmpty
                && cluster.owned("services", by: runtimeName).isEmpty
        }, "\(crm.log)")
        await cluster.kube.shutdown()
    }

    @Test func twoReplicasElectOneLeaderAndHandOver() async throws {
        let cluster = try await Cluster.start()
        defer { try? FileManager.default.removeItem(atPath: cluster.dir) }
        let election = [
            "OPRC_CRM_FEATURES_LEADER_ELECTION": "true", "OPRC_CRM_LEASE_DURATION_SECS": "3",
            "OPRC_CRM_RENEW_DEADLINE_SECS": "2", "OPRC_CRM_RETRY_PERIOD_SECS": "1",
        ]
        let portA = freePort()
        let portB = freePort()
        let a = try await cluster.crm(port: portA, extra: election.merging(["POD_NAME": "crm-a"]) { $1 })
        let b = try await cluster.crm(port: portB, extra: election.merging(["POD_NAME": "crm-b"]) { $1 })

        func leaderGauge(_ process: OaasProcess) async -> Int? {
            guard let (status, _, body) = try? await process.http("GET", "/metrics", timeout: 2), status == 200 else { return nil }
            let line = String(decoding: body, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("crm_leader") }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Int(Double(String($0)) ?? -1) }
        }
        func holder() -> String? {
            cluster.kube.object("leases.coordination.k8s.io", namespace: Self.namespace, name: "oaas-crm-leader")?
                .value(at: "spec", "holderIdentity")?.stringValue
        }
        #expect(try await eventually { holder()?.isEmpty == false }, "\(a.log)\n\(b.log)")
        let first = try #require(holder())
        let (leader, follower) = first.hasPrefix("crm-a") ? (a, b) : (b, a)
        #expect(try await eventually {
            let leading = await leaderGauge(leader)
            let following = await leaderGauge(follower)
            return leading == 1 && following == 0
        })

        // The leader dies without releasing: the follower takes over within the lease duration.
        leader.signal(SIGKILL)
        #expect(try await eventually(timeout: .seconds(15)) {
            guard let current = holder() else { return false }
            return current != first && !current.isEmpty
        }, "\(follower.log)")
        #expect(try await eventually { await leaderGauge(follower) == 1 })
        await cluster.kube.shutdown()
    }
}
