import Foundation
import Kube
import OaaSProto

/// The read mappings of control-plane spec §8.3: what GetDeploymentStatus, ListClassRuntimes and GetClassRuntime
/// answer for a ClassRuntime.
public enum ClassRuntimeSummaries {
    /// `Available` | `Progressing` | `Degraded (<reason>): <message>` | `Pending` (no status yet) | `Deleting` |
    /// `Unknown` (status present but no recognisable phase or conditions).
    public static func summaryString(_ cr: ClassRuntime) -> String { RuntimeState(cr).summary }

    /// condition: available→RUNNING, progressing/applying→DEPLOYING, degraded→DOWN, deleting→DELETED,
    /// pending/no status→PENDING, unknown→UNKNOWN; phase: available→PHASE_RUNNING, degraded→FAILED, unknown→UNKNOWN,
    /// else RESOURCE_PROVISIONING.
    public static func runtimeStatus(_ cr: ClassRuntime) -> Oaas_Runtime_ClassRuntimeStatus {
        let state = RuntimeState(cr)
        var status = Oaas_Runtime_ClassRuntimeStatus()
        switch state {
        case .pending: status.condition = .pending
        case .progressing: status.condition = .deploying
        case .available: status.condition = .running
        case .degraded: status.condition = .down
        case .deleting: status.condition = .deleted
        case .unknown: status.condition = .unknown
        }
        switch state {
        case .available: status.phase = .phaseRunning
        case .degraded: status.phase = .failed
        case .unknown: status.phase = .unknown
        default: status.phase = .resourceProvisioning
        }
        status.message = state.summary
        status.lastUpdated = cr.status?.lastUpdated ?? ""
        status.functions = (cr.status?.functions ?? []).map(functionStatus)
        return status
    }

    /// The summary PM lists (`cluster_name` is left for PM to set).
    public static func summary(_ cr: ClassRuntime, envName: String) -> Oaas_Runtime_ClassRuntimeSummary {
        var summary = Oaas_Runtime_ClassRuntimeSummary()
        summary.id = cr.deploymentId
        summary.deploymentUnitID = cr.deploymentId
        summary.packageName = packageName(cr.spec)
        summary.classKey = classKey(cr.spec)
        summary.targetEnvironment = targetEnv(cr, envName: envName)
        summary.status = runtimeStatus(cr)
        if let compliance = cr.status?.nfrCompliance {
            var nfr = Oaas_Runtime_NfrCompliance()
            nfr.overallStatus = compliance.overallStatus
            if let value = compliance.throughputStatus { nfr.throughputStatus = value }
            if let value = compliance.latencyStatus { nfr.latencyStatus = value }
            if let value = compliance.availabilityStatus { nfr.availabilityStatus = value }
            nfr.lastChecked = compliance.lastChecked
            summary.nfrCompliance = nfr
        }
        summary.resourceRefs = resourceReferences(cr)
        summary.createdAt = cr.creationTimestamp.map(KubeTime.format) ?? ""
        summary.updatedAt = cr.status?.lastUpdated ?? ""
        summary.partitionCount = UInt32(max(1, cr.spec.odgmConfig?.partitionCount ?? 1))
        return summary
    }

    /// `status.resource_refs` with the CR's namespace.
    public static func resourceReferences(_ cr: ClassRuntime) -> [Oaas_Deployment_ResourceReference] {
        (cr.status?.resourceRefs ?? []).map { ref in
            var reference = Oaas_Deployment_ResourceReference()
            reference.kind = ref.kind
            reference.name = ref.name
            reference.namespace = cr.namespace
            if let uid = ref.uid { reference.uid = uid }
            return reference
        }
    }

    static func functionStatus(_ entry: FunctionStatusEntry) -> Oaas_Runtime_FunctionStatus {
        var status = Oaas_Runtime_FunctionStatus()
        status.functionKey = entry.functionKey
        status.service = entry.service
        status.port = UInt32(clamping: entry.port)
        status.predictedURL = entry.predictedUrl
        if let value = entry.observedUrl { status.observedURL = value }
        status.template = entry.template
        if let value = entry.ready { status.ready = value }
        if let value = entry.reason { status.reason = value }
        if let value = entry.message { status.message = value }
        if let value = entry.lastTransitionTime { status.lastTransitionTime = value }
        return status
    }

    /// spec.package_name, else the part of package_class_key before the first `.`.
    static func packageName(_ spec: ClassRuntimeSpec) -> String {
        if let name = spec.packageName, !name.isEmpty { return name }
        return String(spec.packageClassKey.split(separator: ".", maxSplits: 1).first ?? "")
    }

    /// spec.class_key (unqualified), else the part of package_class_key after the first `.`.
    static func classKey(_ spec: ClassRuntimeSpec) -> String {
        if let key = spec.classKey, !key.isEmpty { return key }
        let parts = spec.packageClassKey.split(separator: ".", maxSplits: 1)
        return parts.count == 2 ? String(parts[1]) : spec.packageClassKey
    }

    static func targetEnv(_ cr: ClassRuntime, envName: String) -> String {
        if let env = cr.spec.targetEnv, !env.isEmpty { return env }
        return envName
    }
}
