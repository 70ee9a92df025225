import CRM
import Foundation
import Kube

/// Evaluates a local runtime after a reconcile pass.
enum LocalStatus {
    static func next(record: ClassRuntime, plan: LocalPlan, functions: [FunctionStatusEntry], applied: [String],
                     problems: [String], deadline: Duration, now: Date = Date()) -> ClassRuntimeStatus {
        var status = record.status ?? ClassRuntimeStatus()
        let unready = functions.filter { plan.endpoints[$0.functionKey] != nil && $0.ready == false }
        let workloads = plan.collections.count + functions.count
        let readyCount = applied.count + functions.filter { $0.ready != false }.count
        let phase: ClassRuntimePhase
        let reason: String
        var message: String
        if !problems.isEmpty {
            (phase, reason, message) = (.degraded, "ApplyInvalid", problems.joined(separator: "; "))
        } else if !plan.unrunnable.isEmpty {
            (phase, reason, message) = (.degraded, "NoLocalRuntime", plan.unrunnable.keys.sorted().compactMap { plan.unrunnable[$0] }.joined(separator: "; "))
        } else if !unready.isEmpty {
            let since = status.phase == .progressing ? status.progressingSince.flatMap(KubeTime.parse) ?? now : now
            let waited = now.timeIntervalSince(since)
            let limit = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
            let detail = unready.map { "\($0.functionKey): \($0.message ?? "not ready")" }.joined(separator: "; ")
            if waited >= limit {
                (phase, reason, message) = (.degraded, "Timeout", "not ready after \(Int(limit)) s: \(detail)")
            } else {
                (phase, reason, message) = (.progressing, "ChildNotReady", detail)
                status.progressingSince = KubeTime.format(since)
            }
        } else {
            (phase, reason, message) = (.available, "Ready", "all \(workloads) children ready")
        }
        if phase != .progressing { status.progressingSince = nil }
        if !plan.notes.isEmpty, phase == .available { message += " (" + plan.notes.joined(separator: "; ") + ")" }
        status.phase = phase
        status.message = message
        status.conditions = PhaseConditions.make(phase: phase, reason: reason, message: message, generation: record.generation,
                                                 previous: status.conditions, now: now)
        status.template = plan.template.name
        status.templateSource = plan.template.source
        status.ready = "\(readyCount)/\(workloads)"
        status.resourceRefs = plan.resourceRefs
        status.functions = functions
        status.observedGeneration = record.generation
        status.lastUpdated = KubeTime.format(now)
        return status
    }
}
