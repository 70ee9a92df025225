/// What the server knows about one served group/version/resource.
struct ResourceInfo: Sendable {
    enum NameRule: Sendable {
        /// RFC 1123 subdomain, ≤ 253 (most resources).
        case subdomain
        /// RFC 1123 label, ≤ 63 (namespaces).
        case label
        /// RFC 1035 label, ≤ 63, starts with a letter (services).
        case label1035
    }

    var group: String
    var version: String
    var resource: String
    var kind: String
    var listKind: String
    var singular: String
    var namespaced: Bool
    var statusSubresource: Bool
    var builtin: Bool
    var nameRule: NameRule = .subdomain
    /// Discovery aliases (`deploy`, `crt`), so `kubectl` can address resources by them.
    var shortNames: [String] = []
    var categories: [String] = []
    /// `openAPIV3Schema` of a custom resource version: only its list annotations are used (for apply).
    var schema: TestJSON?

    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// Storage identity shared by every version of a resource: `deployments.apps`, `pods`.
    var groupResource: String { group.isEmpty ? resource : "\(resource).\(group)" }
    var registryKey: String { "\(group)/\(version)/\(resource)" }

    static func builtin(
        _ group: String, _ version: String, _ resource: String, _ kind: String, namespaced: Bool = true,
        status: Bool = false, nameRule: NameRule = .subdomain, short: [String] = []
    ) -> ResourceInfo {
        ResourceInfo(group: group, version: version, resource: resource, kind: kind, listKind: kind + "List",
                     singular: kind.lowercased(), namespaced: namespaced, statusSubresource: status, builtin: true,
                     nameRule: nameRule, shortNames: short)
    }

    /// The resources every cluster has that our controller touches (plus a few neighbours).
    static let builtins: [ResourceInfo] = [
        .builtin("", "v1", "pods", "Pod", status: true, short: ["po"]),
        .builtin("", "v1", "services", "Service", status: true, nameRule: .label1035, short: ["svc"]),
        .builtin("", "v1", "endpoints", "Endpoints", short: ["ep"]),
        .builtin("", "v1", "configmaps", "ConfigMap", short: ["cm"]),
        .builtin("", "v1", "secrets", "Secret"),
        .builtin("", "v1", "serviceaccounts", "ServiceAccount", short: ["sa"]),
        .builtin("", "v1", "events", "Event", short: ["ev"]),
        .builtin("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", status: true, short: ["pvc"]),
        .builtin("", "v1", "namespaces", "Namespace", namespaced: false, status: true, nameRule: .label, short: ["ns"]),
        .builtin("", "v1", "nodes", "Node", namespaced: false, status: true, short: ["no"]),
        .builtin("apps", "v1", "deployments", "Deployment", status: true, short: ["deploy"]),
        .builtin("apps", "v1", "statefulsets", "StatefulSet", status: true, short: ["sts"]),
        .builtin("apps", "v1", "replicasets", "ReplicaSet", status: true, short: ["rs"]),
        .builtin("apps", "v1", "daemonsets", "DaemonSet", status: true, short: ["ds"]),
        .builtin("batch", "v1", "jobs", "Job", status: true),
        .builtin("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", status: true,
                 short: ["hpa"]),
        .builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", status: true, short: ["pdb"]),
        .builtin("coordination.k8s.io", "v1", "leases", "Lease"),
        .builtin("events.k8s.io", "v1", "events", "Event", short: ["ev"]),
        .builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
                 namespaced: false, status: true, short: ["crd", "crds"]),
    ]

    static let crdGroupResource = "customresourcedefinitions.apiextensions.k8s.io"
}

// MARK: Custom resource definitions

extension ResourceInfo {
    /// The served versions of a CRD object, validated as the real API server would (the parts we rely on).
    static func fromCRD(_ crd: TestJSON) throws(APIError) -> [ResourceInfo] {
        let name = crd.value(at: "metadata", "name")?.stringValue ?? ""
        var causes: [(field: String, message: String)] = []
        let group = crd.value(at: "spec", "group")?.stringValue ?? ""
        let plural = crd.value(at: "spec", "names", "plural")?.stringValue ?? ""
        let kind = crd.value(at: "spec", "names", "kind")?.stringValue ?? ""
        let scope = crd.value(at: "spec", "scope")?.stringValue ?? ""
        if group.isEmpty || !group.contains(".") {
            causes.append(("spec.group", "should be a domain with at least one dot"))
        }
        if plural.isEmpty || plural != plural.lowercased() { causes.append(("spec.names.plural", "Required value")) }
        if kind.isEmpty { causes.append(("spec.names.kind", "Required value")) }
        if scope != "Namespaced" && scope != "Cluster" {
            causes.append(("spec.scope", "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\""))
        }
        if name != "\(plural).\(group)" {
            causes.append(("metadata.name", "must be spec.names.plural+\".\"+spec.group"))
        }
        let versions = crd.value(at: "spec", "versions")?.arrayValue ?? []
        if versions.isEmpty { causes.append(("spec.versions", "must have exactly one version marked as storage version")) }
        let storageCount = versions.filter { $0["storage"]?.boolValue == true }.count
        if !versions.isEmpty, storageCount != 1 {
            causes.append(("spec.versions", "must have exactly one version marked as storage version"))
        }
        for (index, version) in versions.enumerated() where (version["name"]?.stringValue ?? "").isEmpty {
            causes.append(("spec.versions[\(index)].name", "Required value"))
        }
        guard causes.isEmpty else { throw .invalid(crdGroupResource, name, causes) }
        let listKind = crd.value(at: "spec", "names", "listKind")?.stringValue ?? kind + "List"
        let singular = crd.value(at: "spec", "names", "singular")?.stringValue ?? kind.lowercased()
        let shortNames = crd.value(at: "spec", "names", "shortNames")?.arrayValue?.compactMap(\.stringValue) ?? []
        let categories = crd.value(at: "spec", "names", "categories")?.arrayValue?.compactMap(\.stringValue) ?? []
        return versions.compactMap { version -> ResourceInfo? in
            guard version["served"]?.boolValue ?? true, let versionName = version["name"]?.stringValue else {
                return nil
            }
            return ResourceInfo(
                group: group, version: versionName, resource: plural, kind: kind, listKind: listKind,
                singular: singular, namespaced: scope == "Namespaced",
                statusSubresource: version.value(at: "subresources", "status") != nil, builtin: false,
                shortNames: shortNames, categories: categories, schema: version.value(at: "schema", "openAPIV3Schema"))
        }
    }
}

// MARK: List semantics for server-side apply

/// How server-side apply merges and tracks a list: as one value, as a set of scalars, or as a map keyed by fields.
enum ListKind: Equatable {
    case atomic
    case set
    case map([String])
}

extension ResourceInfo {
    /// `path` is the list field's path of field names from the root, with `[]` for each list-element step.
    func listKind(at path: [String]) -> ListKind {
        let last = path.last ?? ""
        if path.first == "metadata" {
            switch last {
            case "finalizers": return .set
            case "ownerReferences": return .map(["uid"])
            default: return .atomic
            }
        }
        if builtin { return Self.builtinListKind(path: path, last: last) }
        return schemaListKind(at: path)
    }

    /// The list types of the built-in kinds we render (from their OpenAPI `x-kubernetes-list-*` markers).
    private static func builtinListKind(path: [String], last: String) -> ListKind {
        switch last {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets",
             "resourceClaims":
            return .map(["name"])
        case "volumeMounts": return .map(["mountPath"])
        case "volumeDevices": return .map(["devicePath"])
        case "ports":
            let inContainer = path.contains { ["containers", "initContainers", "ephemeralContainers"].contains($0) }
            return inContainer ? .map(["containerPort", "protocol"]) : .map(["port", "protocol"])
        case "conditions": return .map(["type"])
        case "hostAliases": return .map(["ip"])
        case "topologySpreadConstraints": return .map(["topologyKey", "whenUnsatisfiable"])
        default: return .atomic
        }
    }

    /// Custom resources: `x-kubernetes-list-type` in the version's schema; atomic when absent (as the real server).
    private func schemaListKind(at path: [String]) -> ListKind {
        var node = schema
        for step in path {
            guard let current = node else { return .atomic }
            if step == "[]" {
                node = current["items"]
            } else if let property = current.value(at: "properties", step) {
                node = property
            } else if let additional = current["additionalProperties"], additional.objectValue != nil {
                node = additional
            } else {
                return .atomic
            }
        }
        switch node?["x-kubernetes-list-type"]?.stringValue {
        case "set": return .set
        case "map":
            let keys = node?["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return keys.isEmpty ? .atomic : .map(keys)
        default: return .atomic
        }
    }
}
