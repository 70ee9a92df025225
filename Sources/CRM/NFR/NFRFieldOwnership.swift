import Foundation
import Kube

/// Which workload fields the enforcer owns, read from `metadata.managedFields` (server-side apply's record, in the
/// `FieldsV1` trie: `f:<field>`, `k:<list-map key JSON>`). The record is the truth: it survives restarts and
/// leader changes, and it is what decides whether a later apply by another manager would revert a value.
enum NFRFieldOwnership {
    static let deploymentReplicas = ["f:spec", "f:replicas"]
    static let hpaMinReplicas = ["f:spec", "f:minReplicas"]
    static let knativeMinScale = [
        "f:spec", "f:template", "f:metadata", "f:annotations", "f:\(NFRWorkload.minScaleAnnotation)",
    ]

    /// `spec.template.spec.containers[name=function].resources.requests.<resource>`.
    static func containerRequest(_ resource: String) -> [String] {
        ["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"\#(NFRWorkload.containerName)"}"#,
         "f:resources", "f:requests", "f:\(resource)"]
    }

    /// Whether `manager` owns the field at `path` through an Apply on the main resource.
    static func owns(_ object: KubeObject?, path: [String], manager: String = CRMKeys.enforcerFieldManager) -> Bool {
        guard let object else { return false }
        return object.managedFields.contains { entry in
            guard entry.manager == manager, entry.operation ?? "Apply" == "Apply",
                  (entry.subresource ?? "").isEmpty, let fields = entry.fieldsV1
            else { return false }
            return contains(fields, path[...])
        }
    }

    private static func contains(_ fields: JSONValue, _ path: ArraySlice<String>) -> Bool {
        guard let step = path.first else { return true }
        guard let children = fields.objectValue else { return false }
        if let child = children[step] { return contains(child, path.dropFirst()) }
        // List-map keys are JSON objects: compare them as values, not as text.
        guard step.hasPrefix("k:"), let wanted = keyValue(step) else { return false }
        for (key, child) in children where key.hasPrefix("k:") && keyValue(key) == wanted {
            return contains(child, path.dropFirst())
        }
        return false
    }

    private static func keyValue(_ step: String) -> JSONValue? {
        try? JSONValue(jsonData: Data(step.dropFirst(2).utf8))
    }
}

/// The fields the reconciler must leave out of its apply (RenderContext.enforcedFields) so it never reverts the
/// enforcer: those the enforcer owns on the live children, and only while enforcement is on for the CR (switching it
/// off, or dropping a dimension, hands the field back to the rendered spec).
///
/// Ownership is the only safe evidence: leaving out a field that `oprc-crm` still owns makes server-side apply delete
/// it, so `status.last_applied_recommendations` (which may be newer or older than the children) is not used.
enum NFREnforcedFields {
    static func derive(_ runtime: ClassRuntime, enforcementEnabled: Bool,
                       lookup: (KubeResource, String) -> KubeObject?) -> Set<EnforcedField> {
        guard enforcementEnabled, runtime.enforcementMode == "enforce" else { return [] }
        let dimensions = Set(runtime.enforcementDimensions)
        var result = Set<EnforcedField>()
        for function in runtime.containerFunctions {
            let child = CRMNames.functionChild(cr: runtime.name, functionKey: function.functionKey)
            let owned = NFRWorkload.enforcerOwned(deployment: lookup(.deployments, child),
                                                  hpa: lookup(.horizontalPodAutoscalers, child),
                                                  knative: lookup(.knativeServices, child))
            for dimension in owned where dimensions.contains(dimension) {
                result.insert(EnforcedField(functionKey: function.functionKey, dimension: dimension.rawValue))
            }
        }
        return result
    }
}
