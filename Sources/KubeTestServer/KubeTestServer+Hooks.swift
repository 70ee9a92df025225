import Foundation

/// Failures of the test hooks (API requests answer with a `Status` instead).
public enum KubeTestServerError: Error, CustomStringConvertible {
    case unknownResource(String)
    case notFound(String)
    case rejected(code: Int, message: String)

    public var description: String {
        switch self {
        case .unknownResource(let resource): return "unknown resource \(resource)"
        case .notFound(let what): return "\(what) not found"
        case .rejected(let code, let message): return "rejected (\(code)): \(message)"
        }
    }
}

/// Test hooks: direct access to the stored objects, playing the controllers and the cluster operator a real cluster
/// would have. Resources are named `resource.group` (`deployments.apps`, `pods`, `classruntimes.oaas.io`).
extension KubeTestServer {
    /// The current global resourceVersion.
    public var resourceVersion: Int64 { store.withState { $0.revision } }

    public var openWatchCount: Int { store.withState { $0.watchers.count } }

    public func object(_ resource: String, namespace: String? = nil, name: String) -> TestJSON? {
        store.withState { state in
            guard state.preferred[resource] != nil else { return nil }
            let key = ObjectKey(namespace: namespace ?? "", name: name)
            return state.render(location: ObjectLocation(groupResource: resource, key: key))
        }
    }

    /// Every object of a resource (in one namespace, or all), ordered by namespace and name.
    public func objects(_ resource: String, namespace: String? = nil) -> [TestJSON] {
        store.withState { state in
            guard let info = state.preferred[resource] else { return [] }
            return (state.objects[resource] ?? [:])
                .filter { namespace == nil || $0.key.namespace == namespace }
                .sorted { $0.key < $1.key }
                .map { state.render($0.value, info) }
        }
    }

    /// Changes an object as a controller would: no validation or field-ownership changes, but a new
    /// resourceVersion, a MODIFIED event, the generation rule, and removal when the last finalizer of a deleting
    /// object goes. Identity fields (uid, name, namespace, creationTimestamp) cannot change.
    @discardableResult
    public func mutate(
        _ resource: String, namespace: String? = nil, name: String, _ body: (inout TestJSON) throws -> Void
    ) throws -> TestJSON {
        try store.withState { state throws -> TestJSON in
            guard state.preferred[resource] != nil else { throw KubeTestServerError.unknownResource(resource) }
            let location = ObjectLocation(groupResource: resource, key: ObjectKey(namespace: namespace ?? "", name: name))
            guard let stored = try state.internalUpdate(location, body), let info = state.preferred[resource] else {
                throw KubeTestServerError.notFound("\(resource) \(namespace ?? "")/\(name)")
            }
            return state.render(stored, info)
        }
    }

    /// Replaces `status` (as the kind's controller would).
    @discardableResult
    public func setStatus(_ resource: String, namespace: String? = nil, name: String, _ status: TestJSON) throws
        -> TestJSON
    {
        try mutate(resource, namespace: namespace, name: name) { $0["status"] = status }
    }

    /// Reports a Deployment rolled out: every replica of the current generation updated, ready and available.
    @discardableResult
    public func markDeploymentReady(namespace: String, name: String) throws -> TestJSON {
        try mutate("deployments.apps", namespace: namespace, name: name) { deployment in
            let replicas = deployment.value(at: "spec", "replicas")?.intValue ?? 1
            deployment["status"] = [
                "observedGeneration": deployment.value(at: "metadata", "generation") ?? 1,
                "replicas": .int(replicas), "updatedReplicas": .int(replicas), "readyReplicas": .int(replicas),
                "availableReplicas": .int(replicas),
                "conditions": [
                    ["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"],
                    ["type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"],
                ],
            ]
        }
    }

    /// Reports a StatefulSet rolled out: all replicas ready on one revision.
    @discardableResult
    public func markStatefulSetReady(namespace: String, name: String) throws -> TestJSON {
        try mutate("statefulsets.apps", namespace: namespace, name: name) { statefulSet in
            let replicas = statefulSet.value(at: "spec", "replicas")?.intValue ?? 1
            let revision = TestJSON.string("\(name)-1")
            statefulSet["status"] = [
                "observedGeneration": statefulSet.value(at: "metadata", "generation") ?? 1,
                "replicas": .int(replicas), "readyReplicas": .int(replicas), "currentReplicas": .int(replicas),
                "updatedReplicas": .int(replicas), "availableReplicas": .int(replicas),
                "currentRevision": revision, "updateRevision": revision,
            ]
        }
    }

    /// Removes an object at once, ignoring finalizers (a forced etcd delete); its dependents are collected.
    @discardableResult
    public func remove(_ resource: String, namespace: String? = nil, name: String) -> Bool {
        store.withState { state in
            let key = ObjectKey(namespace: namespace ?? "", name: name)
            guard let stored = state.objects[resource]?[key] else { return false }
            var json = stored.json
            json.setValue(.string(String(state.nextRevision())), at: "metadata", "resourceVersion")
            state.purge(resource, key, StoredObject(json: json, managed: stored.managed))
            return true
        }
    }

    /// Forgets all retained events: a watch or `continue` from any version before now gets 410 Gone.
    public func compactHistory() {
        store.withState { state in
            state.log.removeAll()
            state.compactedThrough = state.revision
        }
    }

    /// Ends every open watch cleanly (as an API server restart or a load-balancer timeout would).
    public func closeWatches() {
        store.withState { $0.closeWatches() }
    }

    /// Requires `Authorization: Bearer <token>` from now on (`nil`: no authentication).
    public func setRequiredToken(_ token: String?) {
        store.withState { $0.requiredToken = token }
    }

    public func recordedRequests() -> [RecordedRequest] {
        store.withState { $0.requests }
    }

    public func clearRecordedRequests() {
        store.withState { $0.requests.removeAll() }
    }

    /// Waits until the garbage collector has nothing queued; `false` on timeout.
    public func waitForGarbageCollection(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if store.withState({ $0.gcPending == 0 }) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return store.withState { $0.gcPending == 0 }
    }

    // MARK: Custom resource definitions

    /// Creates (or replaces) a CRD as `POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions` would, and
    /// serves its resource from then on.
    @discardableResult
    public func registerCRD(_ crd: TestJSON) throws -> TestJSON {
        let now = ServerClock.now()
        return try store.withState { state throws -> TestJSON in
            guard let info = state.preferred[ResourceInfo.crdGroupResource] else {
                throw KubeTestServerError.unknownResource(ResourceInfo.crdGroupResource)
            }
            do {
                do {
                    return try state.create(info, namespace: nil, body: crd, manager: "kube-test-server", now: now)
                } catch let error as APIError where error.reason == "AlreadyExists" {
                    var replacement = crd
                    replacement.setValue(nil, at: "metadata", "resourceVersion")
                    let name = crd.value(at: "metadata", "name")?.stringValue ?? ""
                    return try state.update(info, namespace: nil, name: name, body: replacement, subresource: nil,
                                            manager: "kube-test-server", now: now)
                }
            } catch let error as APIError {
                throw KubeTestServerError.rejected(code: error.code, message: error.message)
            }
        }
    }

    /// Registers every CRD document of a YAML stream (`---` separated), e.g. `k8s/crd/classruntimes.oaas.io.yaml`.
    public func registerCRDs(yaml: String) throws {
        for document in Self.yamlDocuments(yaml) {
            guard let crd = TestJSON.parse(yaml: document), crd.objectValue != nil else {
                throw KubeTestServerError.rejected(code: 400, message: "a CRD document is not a YAML mapping")
            }
            try registerCRD(crd)
        }
    }

    public func registerCRDs(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeTestServerError.notFound("file \(path)")
        }
        try registerCRDs(yaml: String(decoding: data, as: UTF8.self))
    }

    /// A minimal CRD for a resource (for tests that need one before the real manifest exists).
    @discardableResult
    public func registerCustomResource(
        group: String, version: String, kind: String, plural: String, namespaced: Bool = true,
        statusSubresource: Bool = true, schema: TestJSON? = nil
    ) throws -> TestJSON {
        var versionEntry: TestJSON = [
            "name": .string(version), "served": true, "storage": true,
            "schema": ["openAPIV3Schema": schema ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
        ]
        if statusSubresource { versionEntry["subresources"] = ["status": [:]] }
        return try registerCRD([
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(plural).\(group)")],
            "spec": [
                "group": .string(group), "scope": namespaced ? "Namespaced" : "Cluster",
                "names": ["kind": .string(kind), "plural": .string(plural), "singular": .string(kind.lowercased()),
                          "listKind": .string(kind + "List")],
                "versions": [versionEntry],
            ],
        ])
    }

    static func yamlDocuments(_ yaml: String) -> [String] {
        var documents: [String] = []
        var current: [Substring] = []
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("---") {
                documents.append(current.joined(separator: "\n"))
                current = []
            } else {
                current.append(line)
            }
        }
        documents.append(current.joined(separator: "\n"))
        return documents.filter { document in
            document.split(separator: "\n").contains { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return !trimmed.isEmpty && !trimmed.hasPrefix("#")
            }
        }
    }

    // MARK: Kubeconfig

    /// A kubeconfig whose current context points at this server (plain HTTP, optional bearer token).
    public func kubeconfigYAML(namespace: String = "default", token: String? = nil) -> String {
        var yaml = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: kube-test-server
              cluster:
                server: \(url)
            contexts:
            - name: kube-test-server
              context:
                cluster: kube-test-server
                user: kube-test-server
                namespace: \(namespace)
            current-context: kube-test-server
            users:
            - name: kube-test-server
              user: {}

            """
        if let token {
            yaml = yaml.replacingOccurrences(of: "  user: {}\n", with: "  user:\n    token: \(token)\n")
        }
        return yaml
    }

    /// Writes `kubeconfigYAML` to `path` (for a child process: `KUBECONFIG=<path> oaas serve --role crm`).
    public func writeKubeconfig(to path: String, namespace: String = "default", token: String? = nil) throws {
        try Data(kubeconfigYAML(namespace: namespace, token: token).utf8).write(to: URL(fileURLWithPath: path))
    }
}
