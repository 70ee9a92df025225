import Foundation
import Kube

/// Step 6 of the reconcile (control-plane spec §9.4): from what one pass did and saw, the phase, its reason and
/// message, and the Available/Progressing/Degraded conditions. Pure, so every row of the phase table is testable.
enum PhaseEvaluator {
    struct Input: Sendable {
        var generation: Int64
        var previous: ClassRuntimeStatus?
        /// Degraded cause found before observing (TemplateError, ApplyInvalid, Conflict, Forbidden, ChildMissing).
        var failure: (reason: String, message: String)?
        /// Children this pass created or changed.
        var appliedCount: Int
        var template: String
        var desiredWorkloads: Int
        var readyWorkloads: Int
        /// Every desired child (workloads and the rest) is ready.
        var allReady: Bool
        /// First not-ready child, e.g. `Deployment cart-fn-x: 0/1 replicas available`.
        var notReadyDetail: String?
        var rollingOut: Bool
        var deploymentDeadlineExceeded: Bool
        var podFailure: ChildReadiness.PodFailure?
        var now: Date
        var progressDeadline: Duration
    }

    struct Outcome: Sendable, Equatable {
        var phase: ClassRuntimePhase
        var reason: String
        var message: String
        var progressingSince: String?
        /// Left unchanged when nothing was rendered (TemplateError).
        var observedGeneration: Int64?
    }

    static func evaluate(_ input: Input) -> Outcome {
        let nowText = KubeTime.format(input.now)
        let previousSince = input.previous?.progressingSince
        let rendered = input.failure?.reason != "TemplateError"
        let observed = rendered ? input.generation : input.previous?.observedGeneration
        func outcome(_ phase: ClassRuntimePhase, _ reason: String, _ message: String, since: String?) -> Outcome {
            Outcome(phase: phase, reason: reason, message: message, progressingSince: since,
                    observedGeneration: observed)
        }
        if let failure = input.failure {
            return outcome(.degraded, failure.reason, failure.message, since: previousSince)
        }
        if input.appliedCount > 0 {
            return outcome(.applying, "Applying",
                           "applied \(input.appliedCount) object\(input.appliedCount == 1 ? "" : "s") (template \(input.template))",
                           since: nowText)
        }
        if input.allReady {
            return outcome(.available, "Ready", "\(input.readyWorkloads)/\(input.desiredWorkloads) workloads ready",
                           since: nil)
        }
        if let pod = input.podFailure {
            return outcome(.degraded, pod.reason, pod.message, since: previousSince ?? nowText)
        }
        let since = previousSince ?? nowText
        let detail = input.notReadyDetail ?? "children not ready"
        if input.deploymentDeadlineExceeded {
            return outcome(.degraded, "Timeout", "\(detail): progress deadline exceeded", since: since)
        }
        if let start = KubeTime.parse(since),
           input.now.timeIntervalSince(start) > seconds(input.progressDeadline) {
            return outcome(.degraded, "Timeout", "\(detail): not ready \(Int(seconds(input.progressDeadline))) s after \(since)",
                           since: since)
        }
        let reason: String
        if let previousGeneration = input.previous?.observedGeneration, previousGeneration != input.generation {
            reason = "SpecChanged"
        } else if input.rollingOut {
            reason = "Rollout"
        } else {
            reason = "ChildNotReady"
        }
        return outcome(.progressing, reason, detail, since: since)
    }

    static func conditions(
        phase: ClassRuntimePhase, reason: String, message: String, generation: Int64,
        previous: [ClassRuntimeCondition], now: Date
    ) -> [ClassRuntimeCondition] {
        PhaseConditions.make(phase: phase, reason: reason, message: message, generation: generation, previous: previous, now: now)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
