import Kube

/// The kinds the CRM creates or watches for a ClassRuntime (control-plane spec §9.2, §9.6).
enum ManagedResources {
    /// Children watched with `app.kubernetes.io/managed-by=oaas-crm`; Knative only when it is served.
    static func watched(knative: Bool) -> [KubeResource] {
        var resources: [KubeResource] = [
            .deployments, .statefulSets, .services, .horizontalPodAutoscalers, .podDisruptionBudgets, .pods,
            .persistentVolumeClaims,
        ]
        if knative { resources.append(.knativeServices) }
        return resources
    }

    /// Kinds the renderer may produce: candidates for orphan deletion (pods and PVCs belong to their workloads).
    static func renderable(knative: Bool) -> [KubeResource] {
        var resources: [KubeResource] = [
            .deployments, .statefulSets, .services, .horizontalPodAutoscalers, .podDisruptionBudgets,
        ]
        if knative { resources.append(.knativeServices) }
        return resources
    }

    /// Kinds deleted when the ClassRuntime goes (§9.6); PVCs only when data is not retained.
    static func deletable(knative: Bool, retainPVCs: Bool) -> [KubeResource] {
        renderable(knative: knative) + (retainPVCs ? [] : [.persistentVolumeClaims])
    }

    static var managedSelector: LabelSelector {
        [CRMKeys.managedBy: CRMKeys.managedByValue]
    }

    static func ownerSelector(_ owner: String) -> LabelSelector {
        LabelSelector([.equals(CRMKeys.owner, owner), .equals(CRMKeys.managedBy, CRMKeys.managedByValue)])
    }

    /// Router Services (§11.3): `app=router, platform=oaas`.
    static var routerSelector: LabelSelector {
        ["app": "router", "platform": "oaas"]
    }
}
