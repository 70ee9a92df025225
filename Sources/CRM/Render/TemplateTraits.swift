import Kube

/// What differs between templates (control-plane spec §11.1 table), in one place.
struct TemplateTraits {
    let name: String

    var isKnative: Bool { name == TemplateSelector.knative }
    /// cloud and knative share the "large" defaults.
    private var isCloudLike: Bool { name == TemplateSelector.cloud || isKnative }

    /// Default function requests (cpu, memory) when the spec gives none.
    var functionRequests: (cpu: String, memory: String)? {
        switch name {
        case TemplateSelector.edge: ("50m", "64Mi")
        case TemplateSelector.cloud, TemplateSelector.knative: ("100m", "128Mi")
        default: nil
        }
    }

    var odgmRequests: (cpu: String, memory: String)? {
        switch name {
        case TemplateSelector.edge: ("100m", "128Mi")
        case TemplateSelector.cloud, TemplateSelector.knative: ("250m", "256Mi")
        default: nil
        }
    }

    var imagePullPolicy: String? { name == TemplateSelector.dev ? "IfNotPresent" : nil }

    /// Deployment strategy: dev keeps the default, edge never drops below the desired count, cloud also surges.
    var deploymentStrategy: JSONValue? {
        switch name {
        case TemplateSelector.edge:
            ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0]]
        case TemplateSelector.cloud:
            ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": "25%"]]
        default: nil
        }
    }

    var functionLiveness: Bool { name == TemplateSelector.edge || name == TemplateSelector.cloud }

    /// PDB and anti-affinity for ODGM.
    var odgmHighAvailability: Bool { isCloudLike }

    /// Function replicas R (§11.1): dev/edge max(min_scale, 1); cloud/knative also honour availability and
    /// throughput, capped at `LIMITS_MAX_REPLICAS`.
    func replicas(_ function: ClassRuntimeSpec.Function, nfr: ClassRuntimeSpec.Nfr?, context: RenderContext) -> Int {
        let minScale = Int(function.provisionConfig?.minScale ?? 1)
        guard isCloudLike else { return max(minScale, 1) }
        let availability = nfr?.availabilityPct ?? 0
        let forAvailability = availability >= 99.9 ? 3 : availability >= 99 ? 2 : 1
        var forThroughput = 1
        if let rps = nfr?.minThroughputRps, context.rpsPerReplica > 0 {
            forThroughput = Int((Double(rps) / Double(context.rpsPerReplica)).rounded(.up))
        }
        let wanted = max(minScale, forAvailability, forThroughput, 1)
        return min(wanted, max(1, context.maxReplicas))
    }

    /// cloud: with the HPA feature; edge: with the feature and a real range (max_scale > min_scale); never otherwise.
    func wantsHPA(_ function: ClassRuntimeSpec.Function, context: RenderContext) -> Bool {
        guard context.hpaEnabled else { return false }
        switch name {
        case TemplateSelector.cloud: return true
        case TemplateSelector.edge:
            guard let maxScale = function.provisionConfig?.maxScale else { return false }
            return maxScale > max(function.provisionConfig?.minScale ?? 1, 1)
        default: return false
        }
    }
}
