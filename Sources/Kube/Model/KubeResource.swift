import Foundation

/// A REST resource addressed by group, version and plural name (a "GVR"), plus the kind its objects carry.
public struct KubeResource: Sendable, Hashable, CustomStringConvertible {
    /// Empty for the core group (`/api/v1`).
    public var group: String
    public var version: String
    /// Plural, lower-case: `deployments`.
    public var resource: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, resource: String, kind: String, namespaced: Bool = true) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `v1` or `apps/v1`, as written in an object's `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    /// The URL path of the collection, an object, or an object's subresource.
    /// A namespaced resource without a namespace addresses the all-namespaces collection.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace {
            path += "/namespaces/\(Self.escape(namespace))"
        }
        path += "/\(resource)"
        if let name {
            path += "/\(Self.escape(name))"
            if let subresource { path += "/\(subresource)" }
        }
        return path
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .kubePathSegment) ?? segment
    }
}

extension KubeResource {
    public static let pods = KubeResource(group: "", version: "v1", resource: "pods", kind: "Pod")
    public static let services = KubeResource(group: "", version: "v1", resource: "services", kind: "Service")
    public static let configMaps = KubeResource(group: "", version: "v1", resource: "configmaps", kind: "ConfigMap")
    public static let secrets = KubeResource(group: "", version: "v1", resource: "secrets", kind: "Secret")
    public static let events = KubeResource(group: "", version: "v1", resource: "events", kind: "Event")
    public static let persistentVolumeClaims = KubeResource(
        group: "", version: "v1", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim")
    public static let namespaces = KubeResource(
        group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false)
    public static let deployments = KubeResource(group: "apps", version: "v1", resource: "deployments", kind: "Deployment")
    public static let statefulSets = KubeResource(group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet")
    public static let replicaSets = KubeResource(group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet")
    public static let horizontalPodAutoscalers = KubeResource(
        group: "autoscaling", version: "v2", resource: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler")
    public static let podDisruptionBudgets = KubeResource(
        group: "policy", version: "v1", resource: "poddisruptionbudgets", kind: "PodDisruptionBudget")
    public static let leases = KubeResource(group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease")
    public static let customResourceDefinitions = KubeResource(
        group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions",
        kind: "CustomResourceDefinition", namespaced: false)
    /// Our CRD (control-plane spec §10).
    public static let classRuntimes = KubeResource(
        group: "oaas.io", version: "v1alpha1", resource: "classruntimes", kind: "ClassRuntime")
    public static let knativeServices = KubeResource(
        group: "serving.knative.dev", version: "v1", resource: "services", kind: "Service")
}

extension CharacterSet {
    /// RFC 3986 unreserved characters: everything else in a path segment or query value is percent-encoded.
    static let kubePathSegment = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
