import Kube
import OaaSModels

/// Shared shape of every child (control-plane spec §11.2): labels, selector, ownerReferences, applied-hash.
struct ChildFactory {
    let cr: ClassRuntime
    let context: RenderContext

    /// Immutable selector labels of a workload and its pods.
    func selector(_ child: String) -> [String: String] {
        [CRMKeys.app: child, CRMKeys.owner: cr.name]
    }

    /// Labels on every child and pod template.
    func labels(_ child: String, component: String, functionKey: String? = nil) -> [String: String] {
        var labels = selector(child)
        labels[CRMKeys.deploymentId] = cr.name
        labels[CRMKeys.classLabel] = CRMNames.labelSafe(cr.spec.packageClassKey)
        labels[CRMKeys.component] = component
        if let functionKey { labels[CRMKeys.function] = CRMNames.labelSafe(functionKey) }
        labels[CRMKeys.appName] = child
        labels[CRMKeys.managedBy] = CRMKeys.managedByValue
        labels[CRMKeys.partOf] = CRMKeys.partOfValue
        return labels
    }

    /// A new object of `resource` named `name` with the child labels and ownerReferences (when the CR has a uid).
    func object(_ resource: KubeResource, name: String, labels: [String: String]) -> KubeObject {
        var object = KubeObject(resource, name: name, namespace: context.namespace)
        object.labels = labels
        if let owner = cr.ownerReference { object.ownerReferences = [owner] }
        return object
    }

    /// Stamps `oaas.io/applied-hash`: SHA-256 (first 16 hex) of the object's canonical JSON without the annotation,
    /// so the controller re-applies exactly when the rendered object changed.
    static func stamped(_ object: KubeObject) -> KubeObject {
        var unstamped = object
        var annotations = unstamped.annotations
        annotations[CRMKeys.appliedHash] = nil
        unstamped.annotations = annotations
        let hash = String(DeterministicIds.sha256Hex(unstamped.json.jsonString()).prefix(16))
        var stamped = unstamped
        annotations[CRMKeys.appliedHash] = hash
        stamped.annotations = annotations
        return stamped
    }

    /// Pod-template annotations: Prometheus scraping, plus `oaas.io/http2` when asked for.
    static func podAnnotations(metricsPort: Int, http2: Bool) -> [String: String] {
        var annotations = [
            "prometheus.io/scrape": "true", "prometheus.io/port": String(metricsPort),
            "prometheus.io/path": "/metrics",
        ]
        if http2 { annotations[CRMKeys.http2] = "true" }
        return annotations
    }
}

/// Env entries in the Kubernetes container shape.
enum EnvVar {
    static func value(_ name: String, _ value: String) -> JSONValue {
        ["name": .string(name), "value": .string(value)]
    }

    static func fieldRef(_ name: String, _ fieldPath: String) -> JSONValue {
        ["name": .string(name), "valueFrom": ["fieldRef": ["fieldPath": .string(fieldPath)]]]
    }
}
