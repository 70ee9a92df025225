import OaaSModels
import OaaSProto

/// The live state of a ClassRuntime as PM reads it from its CRM (spec §5.8, §8.3 summary mapping).
enum LiveStatus {
    /// The runtime condition of a status reply: `runtime_status` when present, else the summary prefix of a
    /// reference CRM. Nil when it is unknown.
    static func condition(_ reply: Oaas_Deployment_GetDeploymentStatusResponse) -> DeploymentCondition? {
        if reply.hasRuntimeStatus { return condition(reply.runtimeStatus.condition) }
        return condition(summary: reply.hasMessage ? reply.message : "")
    }

    static func condition(_ condition: Oaas_Runtime_DeploymentCondition) -> DeploymentCondition? {
        switch condition {
        case .pending: .pending
        case .deploying: .deploying
        case .running: .running
        case .down: .down
        case .deleted: .deleted
        default: nil
        }
    }

    /// `Available` | `Progressing` | `Degraded (…)` | `Pending` | `Deleting`; anything else is unknown.
    static func condition(summary: String) -> DeploymentCondition? {
        let text = summary.lowercased()
        if text.hasPrefix("available") { return .running }
        if text.hasPrefix("progressing") || text.hasPrefix("applying") { return .deploying }
        if text.hasPrefix("degraded") { return .down }
        if text.hasPrefix("pending") { return .pending }
        if text.hasPrefix("deleting") { return .deleted }
        return nil
    }

    /// The runtime status of a reply, synthesised from the summary for a reference CRM.
    static func runtimeStatus(_ reply: Oaas_Deployment_GetDeploymentStatusResponse) -> Oaas_Runtime_ClassRuntimeStatus {
        if reply.hasRuntimeStatus { return reply.runtimeStatus }
        var status = Oaas_Runtime_ClassRuntimeStatus()
        let summary = reply.hasMessage ? reply.message : ""
        switch condition(summary: summary) {
        case .running?:
            status.condition = .running
            status.phase = .phaseRunning
        case .down?:
            status.condition = .down
            status.phase = .failed
        case .deploying?:
            status.condition = .deploying
            status.phase = .resourceProvisioning
        case .pending?:
            status.condition = .pending
            status.phase = .resourceProvisioning
        case .deleted?:
            status.condition = .deleted
            status.phase = .resourceProvisioning
        case nil:
            status.condition = .unknown
            status.phase = .unknown
        }
        if !summary.isEmpty { status.message = summary }
        return status
    }

    /// `Running`, `Deploying`, … as the class-runtime and status views spell a condition.
    static func displayName(_ condition: Oaas_Runtime_DeploymentCondition) -> String {
        switch condition {
        case .pending: "Pending"
        case .deploying: "Deploying"
        case .running: "Running"
        case .down: "Down"
        case .deleted: "Deleted"
        default: "Unknown"
        }
    }

    static func displayName(_ condition: DeploymentCondition) -> String {
        switch condition {
        case .pending: "Pending"
        case .deploying: "Deploying"
        case .running: "Running"
        case .down: "Down"
        case .deleted: "Deleted"
        }
    }

    static func phaseName(_ phase: Oaas_Runtime_DeploymentPhase) -> String {
        switch phase {
        case .resourceProvisioning: "RESOURCE_PROVISIONING"
        case .phaseRunning: "RUNNING"
        case .failed: "FAILED"
        default: "UNKNOWN"
        }
    }

    /// The condition of one env of a record before any live data: by dispatch state.
    static func stored(_ state: EnvDeploymentState) -> DeploymentCondition {
        switch state.dispatch {
        case .pending: .pending
        case .failed: .down
        case .deleting: .deleted
        case .accepted: state.condition
        }
    }
}
