import Kube

/// What the analyzer and enforcer read from a ClassRuntime.
extension ClassRuntime {
    /// `spec.enforcement.mode`, lowercased; `observe` when absent.
    var enforcementMode: String { spec.enforcement?.effectiveMode.trimmingWhitespace().lowercased() ?? "observe" }

    /// `spec.enforcement.dimensions` that name a dimension, in `replicas, cpu, memory` order; `[replicas]` when the
    /// list is empty (control-plane spec §2.3 default).
    var enforcementDimensions: [NFRDimension] {
        let named = Set((spec.enforcement?.dimensions ?? []).compactMap {
            NFRDimension(rawValue: $0.trimmingWhitespace().lowercased())
        })
        return named.isEmpty ? [.replicas] : NFRDimension.allCases.filter(named.contains)
    }

    /// Functions with a container workload: the only ones with pods to measure and scale (WASM runs inside ODGM,
    /// endpoint functions elsewhere).
    var containerFunctions: [ClassRuntimeSpec.Function] {
        spec.functions.filter {
            if case .container = FunctionKind($0, mode: .kubernetes) { return true }
            return false
        }
    }

    /// The function's own NFRs first (a reference PM sends them only there), then the class's.
    func nfrTargets(for function: ClassRuntimeSpec.Function) -> NFRTargets {
        let own = function.nfrRequirements
        let shared = spec.nfrRequirements
        let availability = shared?.availabilityPct ?? own?.availability.map { $0 * 100 }
        return NFRTargets(minThroughputRps: (own?.minThroughputRps ?? shared?.minThroughputRps).map(Int.init),
                          maxLatencyMs: (own?.maxLatencyMs ?? shared?.maxLatencyMs).map(Int.init),
                          availabilityPct: availability)
    }

    /// The template the children run under: what the reconciler recorded, else what it would select now.
    func actualTemplate(_ config: CRMConfig) -> String {
        if let recorded = status?.template, !recorded.isEmpty { return recorded }
        return TemplateSelector.select(spec, context: config.renderContext()).name
    }

    /// The Event target for this CR.
    var eventTarget: EventRecorder.Target {
        EventRecorder.Target(
            apiVersion: Self.resource.apiVersion, kind: Self.resource.kind, name: name, namespace: namespace,
            uid: uid, resourceVersion: resourceVersion, correlationId: annotations[CRMKeys.correlationId])
    }
}
