import Kube

extension Reconciler {
    // MARK: Events

    func target(_ runtime: ClassRuntime) -> EventRecorder.Target {
        EventRecorder.Target(
            apiVersion: ClassRuntime.resource.apiVersion, kind: ClassRuntime.resource.kind, name: runtime.name,
            namespace: runtime.namespace.isEmpty ? namespace : runtime.namespace, uid: runtime.uid,
            resourceVersion: runtime.resourceVersion, correlationId: runtime.annotations[CRMKeys.correlationId])
    }

    func recordTemplateEvents(_ runtime: ClassRuntime, _ rendered: RenderedChildren) async {
        let choice = rendered.template
        if let hint = choice.unavailableHint {
            await events.record(target(runtime), .warning, reason: "TemplateUnavailable",
                                message: "template '\(hint)' is not registered here; using '\(choice.name)' (\(choice.source))")
        }
        if runtime.status?.template != choice.name {
            await events.record(target(runtime), .normal, reason: "TemplateSelected",
                                message: "selected template \(choice.name) (source \(choice.source))")
        }
        for warning in rendered.warnings {
            await events.record(target(runtime), .warning, reason: "ConfigOverride", message: warning)
        }
    }

    func recordPhaseEvents(
        _ runtime: ClassRuntime, previous: ClassRuntimeStatus?, outcome: PhaseEvaluator.Outcome
    ) async {
        let wasAvailable = previous?.phase == .available
        let previousDegradedReason = previous?.phase == .degraded
            ? previous?.condition(ClassRuntimeCondition.degraded)?.reason : nil
        switch outcome.phase {
        case .available where !wasAvailable:
            await events.record(target(runtime), .normal, reason: "Available", message: outcome.message)
        case .degraded where previousDegradedReason != outcome.reason:
            await events.record(target(runtime), .warning, reason: "Degraded",
                                message: "\(outcome.reason): \(outcome.message)")
        default:
            break
        }
    }
}
