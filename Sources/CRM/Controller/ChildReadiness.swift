import Foundation
import Kube

/// Readiness rules of control-plane spec §11.3/§11.4, as pure functions of observed objects.
enum ChildReadiness {
    struct Verdict: Sendable, Equatable {
        var ready: Bool
        /// Why not (for status messages), nil when ready.
        var detail: String?
        /// A rollout is under way (new generation or pods being replaced), as opposed to pods simply not ready.
        var rollingOut = false
        /// The Deployment reported `ProgressDeadlineExceeded`.
        var deadlineExceeded = false
        /// Knative `status.url`.
        var observedURL: String?
    }

    /// `object` is the observed child (nil = missing).
    static func verdict(_ resource: KubeResource, _ object: KubeObject?) -> Verdict {
        guard let object else { return Verdict(ready: false, detail: "missing") }
        switch resource {
        case .deployments: return deployment(object)
        case .statefulSets: return statefulSet(object)
        case .knativeServices: return knativeService(object)
        default: return Verdict(ready: true)
        }
    }

    static func deployment(_ object: KubeObject) -> Verdict {
        let generation = object.generation ?? 0
        let observed = int(object, "status", "observedGeneration") ?? 0
        let replicas = int(object, "spec", "replicas") ?? int(object, "status", "replicas") ?? 1
        let updated = int(object, "status", "updatedReplicas") ?? 0
        let total = int(object, "status", "replicas") ?? updated
        let available = int(object, "status", "availableReplicas") ?? 0
        let exceeded = conditions(object).contains {
            $0["type"]?.stringValue == "Progressing" && $0["reason"]?.stringValue == "ProgressDeadlineExceeded"
        }
        if observed < generation {
            return Verdict(ready: false, detail: "generation \(generation) not observed yet", rollingOut: true,
                           deadlineExceeded: exceeded)
        }
        if updated < replicas || total > updated {
            return Verdict(ready: false, detail: "\(updated)/\(replicas) replicas updated", rollingOut: true,
                           deadlineExceeded: exceeded)
        }
        if available < max(1, replicas) {
            return Verdict(ready: false, detail: "\(available)/\(replicas) replicas available",
                           deadlineExceeded: exceeded)
        }
        return Verdict(ready: true)
    }

    static func statefulSet(_ object: KubeObject) -> Verdict {
        let generation = object.generation ?? 0
        let observed = int(object, "status", "observedGeneration") ?? 0
        let replicas = int(object, "spec", "replicas") ?? 1
        let ready = int(object, "status", "readyReplicas") ?? 0
        let current = object.value(at: "status", "currentRevision")?.stringValue
        let update = object.value(at: "status", "updateRevision")?.stringValue
        if observed < generation {
            return Verdict(ready: false, detail: "generation \(generation) not observed yet", rollingOut: true)
        }
        if update != current {
            return Verdict(ready: false, detail: "rolling out revision \(update ?? "?")", rollingOut: true)
        }
        if ready != replicas {
            return Verdict(ready: false, detail: "\(ready)/\(replicas) replicas ready")
        }
        return Verdict(ready: true)
    }

    static func knativeService(_ object: KubeObject) -> Verdict {
        let url = object.value(at: "status", "url")?.stringValue
        let generation = object.generation ?? 0
        let observed = int(object, "status", "observedGeneration") ?? 0
        let readyCondition = conditions(object).first { $0["type"]?.stringValue == "Ready" }
        guard observed == generation else {
            return Verdict(ready: false, detail: "generation \(generation) not observed yet", rollingOut: true,
                           observedURL: url)
        }
        guard readyCondition?["status"]?.stringValue == "True" else {
            let why = readyCondition?["message"]?.stringValue ?? readyCondition?["reason"]?.stringValue ?? "not ready"
            return Verdict(ready: false, detail: why, observedURL: url)
        }
        return Verdict(ready: true, observedURL: url)
    }

    /// A failing pod of the owner: image pulls first (the more specific cause), then crash loops.
    struct PodFailure: Sendable, Equatable {
        var reason: String
        var message: String
    }

    static let imagePullReasons: Set<String> = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"]
    static let crashLoopRestarts: Int64 = 5
    static let crashLoopWindow: TimeInterval = 600

    static func podFailure(_ pods: [KubeObject], now: Date) -> PodFailure? {
        var crash: PodFailure?
        for pod in pods.sorted(by: { $0.name < $1.name }) where !pod.isBeingDeleted {
            let statuses = (pod.value(at: "status", "initContainerStatuses")?.arrayValue ?? [])
                + (pod.value(at: "status", "containerStatuses")?.arrayValue ?? [])
            for status in statuses {
                let container = status["name"]?.stringValue ?? "?"
                let waiting = status.value(at: "state", "waiting")
                let reason = waiting?["reason"]?.stringValue ?? ""
                let detail = waiting?["message"]?.stringValue.map { ": \($0)" } ?? ""
                if imagePullReasons.contains(reason) {
                    return PodFailure(reason: "ImagePullFailed",
                                      message: "pod \(pod.name) container \(container): \(reason)\(detail)")
                }
                if crash == nil, reason == "CrashLoopBackOff" {
                    crash = PodFailure(reason: "CrashLoop",
                                       message: "pod \(pod.name) container \(container): \(reason)\(detail)")
                }
                let restarts = status["restartCount"]?.intValue ?? 0
                if crash == nil, restarts >= crashLoopRestarts, recentlyTerminated(status, now: now) {
                    crash = PodFailure(reason: "CrashLoop",
                                       message: "pod \(pod.name) container \(container): restarted \(restarts) times")
                }
            }
        }
        return crash
    }

    /// The last termination was within the crash-loop window (unknown time counts as recent).
    private static func recentlyTerminated(_ status: JSONValue, now: Date) -> Bool {
        guard let finished = status.value(at: "lastState", "terminated", "finishedAt")?.stringValue,
              let date = KubeTime.parse(finished)
        else { return true }
        return now.timeIntervalSince(date) <= crashLoopWindow
    }

    private static func int(_ object: KubeObject, _ path: String...) -> Int64? {
        object.json.value(at: path)?.intValue
    }

    private static func conditions(_ object: KubeObject) -> [JSONValue] {
        object.value(at: "status", "conditions")?.arrayValue ?? []
    }
}
