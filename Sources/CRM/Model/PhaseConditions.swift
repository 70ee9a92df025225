import Foundation
import Kube

/// The condition triple of a phase (control-plane spec §9.4), shared by the Kubernetes controller and the local
/// runtime of `oaas dev`.
public enum PhaseConditions {
    /// Available, Progressing and Degraded — always all three, at most one True — followed by every other condition
    /// (NfrObserved, NfrEnforced) as it was. `lastTransitionTime` moves only when a condition's status flips.
    public static func make(
        phase: ClassRuntimePhase, reason: String, message: String, generation: Int64,
        previous: [ClassRuntimeCondition], now: Date
    ) -> [ClassRuntimeCondition] {
        let trueType: String? = switch phase {
        case .available: ClassRuntimeCondition.available
        case .applying, .progressing: ClassRuntimeCondition.progressing
        case .degraded: ClassRuntimeCondition.degraded
        case .pending, .deleting: nil
        }
        let nowText = KubeTime.format(now)
        let owned = [ClassRuntimeCondition.available, ClassRuntimeCondition.progressing, ClassRuntimeCondition.degraded]
        var result: [ClassRuntimeCondition] = owned.map { type in
            let status = type == trueType ? "True" : "False"
            let before = previous.first { $0.type == type }
            let since = before?.status == status ? (before?.lastTransitionTime ?? nowText) : nowText
            return ClassRuntimeCondition(type: type, status: status, reason: reason,
                                         message: type == trueType ? message : nil, lastTransitionTime: since,
                                         observedGeneration: generation)
        }
        result += previous.filter { !owned.contains($0.type) }
        return result
    }
}
