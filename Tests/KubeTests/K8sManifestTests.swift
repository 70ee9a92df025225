import Foundation
import KubeTestServer
import Testing

/// What `k8s/` renders (control-plane spec §14): one image for every role, hardened pods, the CRM's least-privilege
/// Role, PM's environment list pointing at real CRM Services, and the three overlays.
@Suite("k8s/ manifests", .enabled(if: kubectlPath != nil, "kubectl is not installed"))
struct K8sManifestTests {
    static let allVerbs = ["get", "list", "watch", "create", "update", "patch", "delete"]

    /// The CRM Role of spec §14, grant by grant.
    static let crmGrants: Set<Grant> = {
        var grants = Grant.all("oaas.io", ["classruntimes"], allVerbs)
        grants.formUnion(Grant.all("oaas.io", ["classruntimes/status"], ["get", "update", "patch"]))
        grants.formUnion(Grant.all("oaas.io", ["classruntimes/finalizers"], ["update"]))
        grants.formUnion(Grant.all("apps", ["deployments", "statefulsets"], allVerbs))
        grants.formUnion(Grant.all("", ["services"], allVerbs))
        grants.formUnion(Grant.all("", ["pods"], ["get", "list", "watch"]))
        grants.formUnion(Grant.all("", ["persistentvolumeclaims"], ["get", "list", "watch", "delete"]))
        grants.formUnion(Grant.all("", ["events"], ["create", "patch"]))
        grants.formUnion(Grant.all("events.k8s.io", ["events"], ["create", "patch"]))
        grants.formUnion(Grant.all("autoscaling", ["horizontalpodautoscalers"], allVerbs))
        grants.formUnion(Grant.all("policy", ["poddisruptionbudgets"], allVerbs))
        grants.formUnion(Grant.all("coordination.k8s.io", ["leases"], ["create"]))
        grants.formUnion(Grant.all("coordination.k8s.io", ["leases"], ["get", "update"], names: ["oaas-crm-leader"]))
        return grants
    }()

    static let oneEnvironment = ""
    static let twoEnvironments = "overlays/multi-env"

    // MARK: Rendering

    @Test(arguments: K8sManifests.kustomizations)
    func rendersEveryObjectOnceWithItsNamespaceAndTheCRDFirst(_ kustomization: String) async throws {
        let rendered = try await K8sManifests.render(kustomization)
        #expect(!rendered.objects.isEmpty)
        var seen: Set<String> = []
        for object in rendered.objects {
            let id = "\(object["apiVersion"]?.stringValue ?? "?") \(object.kind ?? "?") "
                + "\(object.namespace ?? "-")/\(object.name ?? "?")"
            #expect(object.kind != nil && object.name != nil, "incomplete object: \(id)")
            #expect(seen.insert(id).inserted, "rendered twice: \(id)")
        }
        // Every namespace an object lives in is created by the same apply.
        let namespaces = Set(rendered.all("Namespace").compactMap(\.name))
        for object in rendered.objects {
            if let namespace = object.namespace {
                #expect(namespaces.contains(namespace),
                        "\(object.kind ?? "") \(object.name ?? ""): namespace \(namespace) is not rendered")
            }
        }
        // Namespaces, then the CRD, then everything else (kubectl applies in output order).
        let kinds = rendered.objects.compactMap(\.kind)
        let crd = try #require(kinds.firstIndex(of: "CustomResourceDefinition"), "the ClassRuntime CRD is missing")
        #expect(kinds[..<crd].allSatisfy { $0 == "Namespace" })
        #expect(kinds.filter { $0 == "CustomResourceDefinition" }.count == 1)
        #expect(rendered.object("CustomResourceDefinition", "classruntimes.oaas.io") != nil)
    }

    // MARK: RBAC

    @Test(arguments: [oneEnvironment, twoEnvironments])
    func crmRoleIsExactlyTheLeastPrivilegeRole(_ kustomization: String) async throws {
        let rendered = try await K8sManifests.render(kustomization)
        let roles = rendered.all("Role").filter { $0.name == "oaas-crm" }
        #expect(roles.count == crmNamespaces(rendered).count)
        for role in roles {
            let grants = Grant.expand(role)
            let extra = grants.subtracting(Self.crmGrants).map(\.description).sorted()
            let missing = Self.crmGrants.subtracting(grants).map(\.description).sorted()
            #expect(extra.isEmpty, "\(role.namespace ?? ""): grants beyond spec §14: \(extra)")
            #expect(missing.isEmpty, "\(role.namespace ?? ""): grants missing: \(missing)")
            // The reference's mistakes, named: no ConfigMaps, Secrets or Pod writes, no wildcards.
            #expect(!grants.contains { ["configmaps", "secrets"].contains($0.resource) })
            #expect(grants.filter { $0.resource == "pods" }.allSatisfy { ["get", "list", "watch"].contains($0.verb) })
            #expect(!grants.contains { $0.group == "*" || $0.resource == "*" || $0.verb == "*" })
            // Only `create` on Leases is unrestricted; everything else names the one lock.
            for lease in grants where lease.resource == "leases" {
                let expectedNames = lease.verb == "create" ? [] : ["oaas-crm-leader"]
                #expect(lease.resourceNames == expectedNames, "\(lease)")
            }

            let namespace = try #require(role.namespace)
            let binding = try #require(rendered.object("RoleBinding", "oaas-crm", namespace: namespace))
            #expect(binding.value(at: "roleRef", "kind") == "Role")
            #expect(binding.value(at: "roleRef", "name") == "oaas-crm")
            #expect(subjects(binding) == ["\(namespace)/oaas-crm"])
            #expect(rendered.object("ServiceAccount", "oaas-crm", namespace: namespace) != nil)

            let knative = try #require(rendered.object("Role", "oaas-crm-knative", namespace: namespace))
            #expect(Grant.expand(knative) == Grant.all("serving.knative.dev", ["services"], Self.allVerbs))
            let knativeBinding = try #require(rendered.object("RoleBinding", "oaas-crm-knative", namespace: namespace))
            #expect(subjects(knativeBinding) == ["\(namespace)/oaas-crm"])
        }

        // Nodes are cluster-scoped: one read-only ClusterRole, bound to the CRM of every environment.
        let nodes = try #require(rendered.object("ClusterRole", "oaas-crm-nodes"))
        #expect(Grant.expand(nodes) == Grant.all("", ["nodes"], ["get", "list", "watch"]))
        let nodesBinding = try #require(rendered.object("ClusterRoleBinding", "oaas-crm-nodes"))
        #expect(nodesBinding.value(at: "roleRef", "kind") == "ClusterRole")
        #expect(Set(subjects(nodesBinding)) == Set(crmNamespaces(rendered).map { "\($0)/oaas-crm" }))
        #expect(rendered.all("ClusterRole").count == 1 && rendered.all("ClusterRoleBinding").count == 1)
    }

    @Test func onlyTheCRMGetsAnAPIToken() async throws {
        let rendered = try await K8sManifests.render(Self.oneEnvironment)
        let account = try #require(rendered.object("ServiceAccount", "oaas-pm", namespace: "oaas"))
        #expect(account["automountServiceAccountToken"] == false)
        let bound = (rendered.all("RoleBinding") + rendered.all("ClusterRoleBinding")).flatMap(subjects)
        #expect(!bound.contains { $0.hasSuffix("/oaas-pm") })

        for deployment in rendered.all("Deployment") {
            let pod = try #require(deployment.podSpec)
            if deployment.name == "oaas-crm" {
                #expect(pod["serviceAccountName"] == "oaas-crm")
                #expect(pod["automountServiceAccountToken"] != false)
            } else {
                #expect(pod["automountServiceAccountToken"] == false, "\(deployment.name ?? "") mounts an API token")
            }
        }
        let pm = rendered.object("Deployment", "oaas-pm", namespace: "oaas")
        #expect(pm?.podSpec?["serviceAccountName"] == "oaas-pm")
    }

    // MARK: Workloads

    @Test(arguments: K8sManifests.kustomizations)
    func everyRoleRunsTheOneImageHardenedAndProbed(_ kustomization: String) async throws {
        let rendered = try await K8sManifests.render(kustomization)
        let deployments = rendered.all("Deployment")
        #expect(Set(deployments.compactMap(\.name)) == ["oaas-pm", "oaas-crm", "oaas-router", "oaas-gateway"])
        for deployment in deployments {
            let name = deployment.name ?? ""
            let role = String(name.dropFirst("oaas-".count))
            let container = try #require(deployment.container, "\(name) has no container")
            #expect(deployment.podSpec?["containers"]?.arrayValue?.count == 1)
            // The kustomization's `images:` entry rewrote the placeholder `oaas`.
            #expect(container["image"] == "oaas:latest", "\(name)")
            #expect(container.strings("args") == ["serve", "--role", role], "\(name)")
            #expect(deployment.labels["platform"] == "oaas")
            #expect(deployment.value(at: "spec", "selector", "matchLabels", "app") == .string(role))

            let ports = Set(container.list("ports").compactMap { $0["name"]?.stringValue })
            for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
                #expect(container.value(at: probe, "httpGet", "path") == .string(path), "\(name) \(probe)")
                let port = container.value(at: probe, "httpGet", "port")?.stringValue ?? ""
                #expect(ports.contains(port), "\(name) \(probe) probes an undeclared port '\(port)'")
            }
            #expect(container.value(at: "resources", "requests", "cpu") != nil, "\(name) requests no CPU")
            #expect(container.value(at: "resources", "requests", "memory") != nil, "\(name) requests no memory")
            // A read-only root file system still needs a writable /tmp.
            #expect(mountedVolumes(deployment)["/tmp"].map { isEmptyDir(deployment, volume: $0) } == true, "\(name)")
        }
        for workload in deployments + rendered.all("StatefulSet") {
            try expectHardened(workload)
        }
    }

    @Test func pmKeepsItsDataOnAClaimAndListsTheEnvironment() async throws {
        let rendered = try await K8sManifests.render(Self.oneEnvironment)
        let pm = try #require(rendered.object("Deployment", "oaas-pm", namespace: "oaas"))
        #expect(pm.value(at: "spec", "replicas") == 1)
        #expect(pm.value(at: "spec", "strategy", "type") == "Recreate")
        let container = try #require(pm.container)
        #expect(container.envValues["STORAGE_PATH"] == "/data/pm")
        let dataVolume = try #require(mountedVolumes(pm)["/data"])
        let claim = pm.podSpec?.list("volumes").first { $0["name"]?.stringValue == dataVolume }?
            .value(at: "persistentVolumeClaim", "claimName")
        #expect(claim == "oaas-pm-data")
        #expect(rendered.object("PersistentVolumeClaim", "oaas-pm-data", namespace: "oaas") != nil)
        #expect(container.list("ports").first?["containerPort"] == 8080)
        #expect(container.list("ports").first?["name"] == "http")

        let service = try #require(rendered.object("Service", "oaas-pm", namespace: "oaas"))
        #expect(service.list("spec", "ports").first?["port"] == 8080)
        #expect(service.value(at: "spec", "selector", "app") == "pm")

        let environment = pmEnvironment(rendered)
        #expect(environment["CRM_DEFAULT_CLUSTER"] == "oaas-1")
        let expected: TestJSON = [[
            "name": "oaas-1", "url": "http://oaas-crm.oaas-1.svc.cluster.local:8088",
            "timeout": 30, "retry_attempts": 3,
        ]]
        #expect(environment["CRM_CLUSTERS_JSON"].flatMap { TestJSON.parse(json: Array($0.utf8)) } == expected)
    }

    /// Each entry of PM's `CRM_CLUSTERS_JSON` names a CRM Service that exists, in front of a CRM that reports that
    /// environment name.
    @Test(arguments: [(oneEnvironment, ["oaas-1"]), (twoEnvironments, ["oaas-1", "oaas-2"])])
    func everyPMEnvironmentReachesItsCRM(_ kustomization: String, _ names: [String]) async throws {
        let rendered = try await K8sManifests.render(kustomization)
        let environment = pmEnvironment(rendered)
        let clusters = try #require(environment["CRM_CLUSTERS_JSON"].flatMap { TestJSON.parse(json: Array($0.utf8)) })
        let entries = clusters.arrayValue ?? []
        #expect(entries.compactMap { $0["name"]?.stringValue } == names)
        #expect(names.contains(environment["CRM_DEFAULT_CLUSTER"] ?? ""))
        #expect(crmNamespaces(rendered) == names)

        for entry in entries {
            let name = entry["name"]?.stringValue ?? ""
            let url = try #require(entry["url"]?.stringValue.flatMap(URLComponents.init(string:)), "\(name): bad url")
            #expect(url.scheme == "http" && entry["timeout"] == 30 && entry["retry_attempts"] == 3)
            // http://<service>.<namespace>.svc.cluster.local:<port>
            let host = (url.host ?? "").split(separator: ".").map(String.init)
            try #require(host.count == 5 && host[2...] == ["svc", "cluster", "local"], "\(name): \(url)")
            let service = try #require(rendered.object("Service", host[0], namespace: host[1]), "\(name): no Service")
            let port = service.list("spec", "ports").first { $0["port"]?.intValue == Int64(url.port ?? 0) }
            #expect(port?["appProtocol"] == "kubernetes.io/h2c", "\(name): the CRM port speaks gRPC over h2c")

            let crm = try #require(rendered.object("Deployment", "oaas-crm", namespace: host[1]))
            let container = try #require(crm.container)
            let env = container.envValues
            #expect(env["OPRC_CRM_ENV_NAME"] == .some(name))
            #expect(env["OPRC_CRM_PROFILE"] == "full")
            #expect(env["OPRC_CRM_FEATURES_LEADER_ELECTION"] == "true")
            #expect(env["OAAS_IMAGE"] == container["image"]?.stringValue, "ODGM pods must run the CRM's own image")
            #expect(container.envFieldRef("OPRC_CRM_K8S_NAMESPACE") == "metadata.namespace")
            #expect(container.envFieldRef("POD_NAME") == "metadata.name")
            #expect(crm.value(at: "spec", "replicas") == 2)
            #expect(container.list("ports").first?["containerPort"] == 8088)
            #expect(service.list("spec", "ports").first?["targetPort"] == container.list("ports").first?["name"])
        }
    }

    @Test(arguments: [oneEnvironment, twoEnvironments])
    func routerAndGatewayOfEveryEnvironment(_ kustomization: String) async throws {
        let rendered = try await K8sManifests.render(kustomization)
        for namespace in crmNamespaces(rendered) {
            // The CRM finds the router by these labels and hands its `grpc` port to ODGM and functions.
            let routerService = try #require(rendered.object("Service", "oaas-router", namespace: namespace))
            #expect(routerService.labels["app"] == "router" && routerService.labels["platform"] == "oaas")
            let grpc = routerService.list("spec", "ports").first { $0["name"]?.stringValue == "grpc" }
            #expect(grpc?["port"] == 17447 && grpc?["appProtocol"] == "kubernetes.io/h2c")
            let router = try #require(rendered.object("Deployment", "oaas-router", namespace: namespace)?.container)
            #expect(router.envValues["OPRC_ROUTER_PORT"] == "17447")
            #expect(router.envValues["OPRC_ROUTER_ENV"] == .some(namespace))

            let gatewayService = try #require(rendered.object("Service", "oaas-gateway", namespace: namespace))
            #expect(gatewayService.list("spec", "ports").first?["port"] == 8080)
            let gateway = try #require(rendered.object("Deployment", "oaas-gateway", namespace: namespace)?.container)
            #expect(gateway.envValues["HTTP_PORT"] == "8080")
            #expect(gateway.envValues["OPRC_ROUTER_URL"] == "http://oaas-router:17447")
            #expect(gateway.envValues["OPRC_ENV"] == .some(namespace))
        }
    }

    // MARK: Overlays

    @Test func kindExposesPMAndGatewayOnFixedNodePorts() async throws {
        let rendered = try await K8sManifests.render("overlays/kind")
        for (name, namespace, nodePort) in [("oaas-pm", "oaas", 30180), ("oaas-gateway", "oaas-1", 30081)] {
            let service = try #require(rendered.object("Service", name, namespace: namespace))
            #expect(service.value(at: "spec", "type") == "NodePort")
            #expect(service.list("spec", "ports").map { $0["nodePort"] } == [.int(Int64(nodePort))])
        }
        // Images come from `kind load`: never pulled when present.
        for deployment in rendered.all("Deployment") {
            #expect(deployment.container?["imagePullPolicy"] == "IfNotPresent", "\(deployment.name ?? "")")
        }
        // The cluster config maps both NodePorts to localhost.
        let config = try String(contentsOfFile: K8sManifests.path("overlays/kind/cluster.yaml"), encoding: .utf8)
        let cluster = try #require(TestJSON.parse(yaml: config))
        let mapped = cluster.list("nodes").flatMap { $0.list("extraPortMappings") }
            .filter { $0["containerPort"] == $0["hostPort"] }.compactMap { $0["hostPort"]?.intValue }
        #expect(Set(mapped) == [30180, 30081])
    }

    @Test func etcdOverlayRunsTwoPMsOnEtcd() async throws {
        let rendered = try await K8sManifests.render("overlays/etcd")
        let etcd = try #require(rendered.object("StatefulSet", "oaas-etcd", namespace: "oaas"))
        let image = try #require(etcd.container?["image"]?.stringValue)
        let version = image.split(separator: ":").last.map { tag in
            tag.drop { $0 == "v" }.split(separator: ".").compactMap { Int($0) }
        }
        #expect(version.map { $0.count >= 2 && ($0[0], $0[1]) >= (3, 5) } == true, "etcd \(image) is older than 3.5")
        let claims = etcd.list("spec", "volumeClaimTemplates")
        #expect(claims.count == 1)
        #expect(claims.first?.value(at: "spec", "resources", "requests", "storage") == "1Gi")
        let serviceName = etcd.value(at: "spec", "serviceName")?.stringValue ?? ""
        let service = try #require(rendered.object("Service", serviceName, namespace: "oaas"))
        #expect(service.value(at: "spec", "selector") == etcd.value(at: "spec", "selector", "matchLabels"))
        #expect(service.list("spec", "ports").contains { $0["port"] == 2379 })

        let pm = try #require(rendered.object("Deployment", "oaas-pm", namespace: "oaas"))
        #expect(pm.value(at: "spec", "replicas") == 2)
        #expect(pm.value(at: "spec", "strategy", "type") == "RollingUpdate")
        let env = try #require(pm.container).envValues
        #expect(env["STORAGE_TYPE"] == "etcd")
        #expect(env["ETCD_ENDPOINTS"] == "http://\(service.name ?? ""):2379")
        // No LMDB claim left behind: two replicas could not share a ReadWriteOnce volume.
        #expect(rendered.all("PersistentVolumeClaim").isEmpty)
        #expect(pm.podSpec?.list("volumes").allSatisfy { $0["persistentVolumeClaim"] == nil } == true)
    }

    @Test func multiEnvOverlayPeersTheRoutersOfBothEnvironments() async throws {
        let rendered = try await K8sManifests.render(Self.twoEnvironments)
        #expect(Set(rendered.all("Namespace").compactMap(\.name)) == ["oaas", "oaas-1", "oaas-2"])
        for (namespace, peer) in [("oaas-1", "oaas-2"), ("oaas-2", "oaas-1")] {
            let router = try #require(rendered.object("Deployment", "oaas-router", namespace: namespace)?.container)
            #expect(router.envValues["OPRC_ROUTER_PEERS"] == "http://oaas-router.\(peer).svc.cluster.local:17447")
        }
        // PM and the CRD exist once.
        #expect(rendered.all("Deployment").filter { $0.name == "oaas-pm" }.count == 1)
        #expect(rendered.objects.filter { $0.namespace == "oaas-2" }.allSatisfy { !($0.name ?? "").contains("pm") })
    }

    // MARK: Helpers

    /// Namespaces that run a CRM (one per environment), sorted.
    private func crmNamespaces(_ rendered: RenderedManifests) -> [String] {
        rendered.all("Deployment").filter { $0.name == "oaas-crm" }.compactMap(\.namespace).sorted()
    }

    private func subjects(_ binding: TestJSON) -> [String] {
        binding.list("subjects").map { "\($0["namespace"]?.stringValue ?? "")/\($0["name"]?.stringValue ?? "")" }
    }

    /// PM's environment as its container sees it: plain values plus the ConfigMaps it reads with `envFrom`.
    private func pmEnvironment(_ rendered: RenderedManifests) -> [String: String] {
        guard let pm = rendered.object("Deployment", "oaas-pm", namespace: "oaas"), let container = pm.container else {
            Issue.record("no oaas-pm Deployment")
            return [:]
        }
        var environment: [String: String] = [:]
        for source in container.list("envFrom") {
            if let name = source.value(at: "configMapRef", "name")?.stringValue {
                environment.merge(rendered.configMapData(named: name, namespace: "oaas")) { _, new in new }
            }
        }
        return environment.merging(container.envValues) { _, plain in plain }
    }

    /// Mount path → volume name of the first container.
    private func mountedVolumes(_ workload: TestJSON) -> [String: String] {
        var mounts: [String: String] = [:]
        for mount in workload.container?.list("volumeMounts") ?? [] {
            if let path = mount["mountPath"]?.stringValue, let name = mount["name"]?.stringValue { mounts[path] = name }
        }
        return mounts
    }

    private func isEmptyDir(_ workload: TestJSON, volume: String) -> Bool {
        workload.podSpec?.list("volumes").first { $0["name"]?.stringValue == volume }?["emptyDir"] != nil
    }

    /// Non-root user 65532, read-only root file system, no privilege escalation, no capabilities, and every mount
    /// backed by a declared volume or claim template.
    private func expectHardened(_ workload: TestJSON, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let name = "\(workload.kind ?? "") \(workload.namespace ?? "")/\(workload.name ?? "")"
        let pod = try #require(workload.podSpec, "\(name) has no pod template", sourceLocation: sourceLocation)
        #expect(pod.value(at: "securityContext", "runAsNonRoot") == true, "\(name)", sourceLocation: sourceLocation)
        #expect(pod.value(at: "securityContext", "runAsUser") == 65532, "\(name)", sourceLocation: sourceLocation)
        #expect(pod.value(at: "securityContext", "seccompProfile", "type") == "RuntimeDefault", "\(name)",
                sourceLocation: sourceLocation)
        let declared = Set(pod.list("volumes").compactMap { $0["name"]?.stringValue }
            + workload.list("spec", "volumeClaimTemplates").compactMap(\.name))
        for container in pod.list("containers") {
            let security = container["securityContext"]
            #expect(security?["readOnlyRootFilesystem"] == true, "\(name)", sourceLocation: sourceLocation)
            #expect(security?["allowPrivilegeEscalation"] == false, "\(name)", sourceLocation: sourceLocation)
            #expect(security?.value(at: "capabilities", "drop") == ["ALL"], "\(name)", sourceLocation: sourceLocation)
            for mount in container.list("volumeMounts") {
                let volume = mount["name"]?.stringValue ?? ""
                #expect(declared.contains(volume), "\(name) mounts undeclared volume \(volume)",
                        sourceLocation: sourceLocation)
            }
        }
    }
}
