import Foundation
import Kube

/// Status bookkeeping of control-plane spec §9.2 and §10.3: write only when something other than `last_updated`,
/// `observed_generation` and condition `lastTransitionTime` changed; merge rules keep analyzer/enforcer fields.
enum StatusWriter {
    /// Reconciler-owned optional fields: written as `null` when absent so a merge patch clears them.
    static let clearableKeys = ["message", "template", "template_source", "ready", "progressing_since"]

    /// Whether `new` differs from `old` in anything but the timestamps and generations the spec says to ignore.
    static func differs(_ old: ClassRuntimeStatus?, _ new: ClassRuntimeStatus) -> Bool {
        guard let old else { return true }
        return normalized(old) != normalized(new)
    }

    static func normalized(_ status: ClassRuntimeStatus) -> ClassRuntimeStatus {
        var copy = status
        copy.lastUpdated = nil
        copy.observedGeneration = nil
        copy.conditions = copy.conditions.map { condition in
            var condition = condition
            condition.lastTransitionTime = nil
            return condition
        }
        return copy
    }

    /// `{"metadata": {"resourceVersion"}, "status": …}`: conditional on the version we read, so a concurrent writer
    /// (analyzer, Deploy) makes us re-read instead of being overwritten.
    static func patch(_ status: ClassRuntimeStatus, resourceVersion: String?) -> JSONValue {
        var json = CRMJSON.encode(status)
        for key in clearableKeys where json[key] == nil { json[key] = .null }
        var patch: JSONValue = ["status": json]
        if let resourceVersion { patch.setValue(.string(resourceVersion), at: "metadata", "resourceVersion") }
        return patch
    }

    /// `status.functions`: the rendered entries with observed readiness; `lastTransitionTime` moves when `ready` flips.
    static func functions(
        rendered: [FunctionStatusEntry], observed: [String: ChildReadiness.Verdict], previous: [FunctionStatusEntry],
        now: Date
    ) -> [FunctionStatusEntry] {
        let nowText = KubeTime.format(now)
        return rendered.map { entry in
            var entry = entry
            if let verdict = observed[entry.functionKey] {
                entry.ready = verdict.ready
                entry.reason = verdict.ready ? "Ready" : "NotReady"
                entry.message = verdict.detail
                if let url = verdict.observedURL { entry.observedUrl = url }
            } else {
                // No workload (WASM, endpoint): ready as far as Kubernetes is concerned.
                entry.ready = entry.ready ?? true
            }
            let before = previous.first { $0.functionKey == entry.functionKey }
            entry.lastTransitionTime = before?.ready == entry.ready ? (before?.lastTransitionTime ?? nowText) : nowText
            return entry
        }
    }
}
