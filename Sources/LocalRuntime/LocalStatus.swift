import CRM
import Foundation
import Kube

/// The Available/Progressing/Degraded triple of control-plane spec §9.4: exactly one True (none while pending or
/// deleting); a condition's `lastTransitionTime` moves only when its status flips. Other conditions are kept.
enum Conditions {
    static let managed = ["Available", "Progressing", "Degraded"]

    static func set(_ phase: ClassRuntimePhase, reason: String, message: String, previous: [ClassRuntimeCondition],
                    generation: Int64, now: Date = Date()) -> [ClassRuntimeCondition] {
        let trueType: String? = switch phase {
        case .available: "Available"
        case .applying, .progressing: "Progressing"
        case .degraded: "Degraded"
        case .pending, .deleting: nil
        }
        var result = previous.filter { !managed.contains($0.type) }
        for type in managed {
            let status = type == trueType ? "True" : "False"
            let old = previous.first { $0.type == type }
            let transition = old?.status == status ? (old?.lastTransitionTime ?? KubeTime.format(now)) : KubeTime.format(now)
            result.append(ClassRuntimeCondition(type: type, status: status, reason: reason, message: message,
                                                lastTransitionTime: transition, observedGeneration: generation))
        }
        return result.sorted { $0.type < $1.type }
    }
}

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
        status.conditions = Conditions.set(phase, reason: reason, message: message, previous: status.conditions,
                                           generation: record.generation, now: now)
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
