import Foundation
import Kube

extension NFRAnalysisPass {
    /// Merge-patches the analyzer's part of the status (see `NFRStatusPatch` for the conflict handling).
    func write(_ outcome: Outcome, for runtime: ClassRuntime) async throws {
        let date = now()
        try await NFRStatusPatch.write(client: client, namespace: config.namespace, runtime: runtime,
                                       logger: logger) { current in
            Self.statusPatch(outcome, runtime: current, now: date)
        }
    }

    /// `{conditions, nfr_recommendations?, nfr_compliance?}`. An unavailable Prometheus changes only the condition:
    /// the last good recommendations stay.
    static func statusPatch(_ outcome: Outcome, runtime: ClassRuntime, now: Date) -> JSONValue {
        let status = runtime.status ?? ClassRuntimeStatus()
        let condition: ClassRuntimeCondition = switch outcome.kind {
        case .observed:
            ClassRuntimeCondition(type: ClassRuntimeCondition.nfrObserved, status: "True", reason: "PrometheusQueryOK",
                                  message: outcome.message, observedGeneration: runtime.generation)
        case .noData:
            ClassRuntimeCondition(type: ClassRuntimeCondition.nfrObserved, status: "False", reason: "NoData",
                                  message: outcome.message, observedGeneration: runtime.generation)
        case .unavailable:
            ClassRuntimeCondition(type: ClassRuntimeCondition.nfrObserved, status: "False",
                                  reason: "PrometheusUnavailable", message: outcome.message,
                                  observedGeneration: runtime.generation)
        }
        var body: [String: JSONValue] = [
            "conditions": CRMJSON.encode(NFRConditions.upsert(condition, into: status.conditions, now: now)),
        ]
        if outcome.kind != .unavailable {
            if let change = JSONMergeDiff.patch(from: status.nfrRecommendations, to: outcome.recommendations.json) {
                body["nfr_recommendations"] = change
            }
            let report = outcome.compliance
            body["nfr_compliance"] = CRMJSON.encode(ClassRuntimeStatus.NfrCompliance(
                overallStatus: report.overall.rawValue, throughputStatus: report.throughput.rawValue,
                latencyStatus: report.latency.rawValue, availabilityStatus: report.availability.rawValue,
                lastChecked: KubeTime.format(now)))
        }
        return .object(body)
    }
}
