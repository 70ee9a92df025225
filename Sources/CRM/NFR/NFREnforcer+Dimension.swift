import Foundation
import Kube

extension NFREnforcementPass {
    /// One (function, dimension): plan the step, pass the gate, apply.
    func enforce(
        _ runtime: ClassRuntime, function: String, dimension: NFRDimension, target: Int, gateKey: String,
        workload: inout NFRWorkload, results: inout Results
    ) async {
        let event = runtime.eventTarget
        let date = now()
        do {
            // A reconciler resync that raced with our last write put the rendered value back: restore ours at once
            // (the cooldown limits how often the target moves, not how fast a lost write is repaired).
            if let restore = await gates.entry(gateKey)?.applied, workload.takenOverByReconciler(dimension) {
                guard let plan = try workload.plan(dimension, target: restore, maxReplicas: config.maxReplicas,
                                                   maxDeltaPercent: nil), plan.changes
                else { return }
                logger.info("restoring an enforced value the reconciler overwrote",
                            metadata: ["classruntime": "\(runtime.name)", "field": "\(plan.field)"])
                await apply(plan, runtime, function: function, dimension: dimension, gateKey: gateKey, date: date,
                            workload: &workload, results: &results)
                return
            }
            guard let plan = try workload.plan(dimension, target: target, maxReplicas: config.maxReplicas,
                                               maxDeltaPercent: config.enforcementMaxReplicaDeltaPercent),
                  plan.changes
            else { return }
            let change = Self.change(dimension, plan.value, function)
            let seed = runtime.status?.lastAppliedAt.flatMap(KubeTime.parse)
                .map { $0.addingTimeInterval(PhaseEvaluator.seconds(config.enforcementCooldown)) }
            switch await gates.check(gateKey, target: target, now: date, stability: config.enforcementStability,
                                     cooldownSeed: seed) {
            case .cooldown(let until):
                await events.record(event, .normal, reason: "NFRSkippedCooldown",
                                    message: "\(change) waits for the cooldown until \(KubeTime.format(until))")
                metrics.count(.skippedCooldown)
                return
            case .unstable(let changed):
                if changed {
                    let window = Self.text(config.enforcementStability)
                    await events.record(event, .normal, reason: "NFRSkippedStability", message:
                        "\(dimension.rawValue) target \(target) for function \(function) must hold for \(window) before it is applied")
                    metrics.count(.skippedStability)
                }
                return
            case .ready:
                break
            }
            if let cap = plan.clampedTo {
                await events.record(event, .warning, reason: "NFRClampedMax", message:
                    "\(dimension.rawValue) target \(target) for function \(function) clamped to \(cap)")
            }
            await apply(plan, runtime, function: function, dimension: dimension, gateKey: gateKey, date: date,
                        workload: &workload, results: &results)
        } catch {
            await events.record(event, .warning, reason: "NFRApplyFailed", message: "\(error)")
            metrics.count(.failed)
            results.failures.append("\(error)")
        }
    }

    /// Server-side apply as `oprc-crm-enforcer`; success starts the cooldown, failure is an Event (never Degraded).
    private func apply(
        _ plan: NFRPlan, _ runtime: ClassRuntime, function: String, dimension: NFRDimension, gateKey: String,
        date: Date, workload: inout NFRWorkload, results: inout Results
    ) async {
        let change = Self.change(dimension, plan.value, function)
        do {
            let stored = try await client.apply(plan.resource, plan.object, fieldManager: CRMKeys.enforcerFieldManager,
                                                force: true)
            workload.update(plan.resource, stored)
            await gates.applied(gateKey, value: plan.value,
                                cooldownUntil: date.addingTimeInterval(PhaseEvaluator.seconds(config.enforcementCooldown)))
            await events.record(runtime.eventTarget, .normal, reason: "NFRApplied", message: change)
            metrics.count(.applied)
            logger.info("NFR applied", metadata: ["classruntime": "\(runtime.name)", "change": "\(change)",
                                                  "field": "\(plan.field)"])
            results.applied.append(.init(component: "function", dimension: dimension.rawValue,
                                         target: Double(plan.value), basis: "enforcer", confidence: 1.0))
            results.appliedMessages.append(change)
        } catch {
            let message = "\(change): \(plan.field): \((error as? KubeError)?.status?.message ?? "\(error)")"
            await events.record(runtime.eventTarget, .warning, reason: "NFRApplyFailed", message: message)
            metrics.count(.failed)
            results.failures.append(message)
        }
    }

    /// `replicas -> 3 (function Cart.add)`: the NFRApplied message (the function keeps two functions' Events apart).
    static func change(_ dimension: NFRDimension, _ value: Int, _ function: String) -> String {
        "\(dimension.rawValue) -> \(value) (function \(function))"
    }

    /// `60 s`, `300 ms`: durations as people write them in Event messages.
    static func text(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
    }
}
