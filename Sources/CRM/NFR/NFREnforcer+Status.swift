import Foundation
import Kube

extension NFREnforcementPass {
    /// `last_applied_recommendations` (upserted by component and dimension), `last_applied_at` and `NfrEnforced`.
    func writeStatus(_ runtime: ClassRuntime, _ results: Results) async throws {
        let date = now()
        try await NFRStatusPatch.write(client: client, namespace: config.namespace, runtime: runtime,
                                       logger: logger) { current in
            Self.statusPatch(results, runtime: current, now: date)
        }
    }

    /// nil when only the same failure as last time is to be reported (no write, no new resourceVersion).
    static func statusPatch(_ results: Results, runtime: ClassRuntime, now: Date) -> JSONValue? {
        let status = runtime.status ?? ClassRuntimeStatus()
        var body: [String: JSONValue] = [:]
        let condition: ClassRuntimeCondition
        if results.applied.isEmpty {
            condition = ClassRuntimeCondition(
                type: ClassRuntimeCondition.nfrEnforced, status: "False", reason: "ApplyFailed",
                message: results.failures.joined(separator: "; "), observedGeneration: runtime.generation)
        } else {
            var applied = status.lastAppliedRecommendations ?? []
            for entry in results.applied {
                applied.removeAll { $0.component == entry.component && $0.dimension == entry.dimension }
                applied.append(entry)
            }
            body["last_applied_recommendations"] = CRMJSON.encode(applied)
            body["last_applied_at"] = .string(KubeTime.format(now))
            var message = results.appliedMessages.joined(separator: ", ")
            if !results.failures.isEmpty { message += "; failed: " + results.failures.joined(separator: "; ") }
            condition = ClassRuntimeCondition(
                type: ClassRuntimeCondition.nfrEnforced, status: "True", reason: "RecommendationsApplied",
                message: message, observedGeneration: runtime.generation)
        }
        let before = status.condition(ClassRuntimeCondition.nfrEnforced)
        if results.applied.isEmpty, before?.status == condition.status, before?.reason == condition.reason,
           before?.message == condition.message
        {
            return nil
        }
        body["conditions"] = CRMJSON.encode(NFRConditions.upsert(condition, into: status.conditions, now: now))
        return .object(body)
    }
}
