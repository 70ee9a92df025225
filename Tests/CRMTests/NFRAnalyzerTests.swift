import Foundation
import Kube
import KubeTestServer
import Testing

@testable import CRM

/// The analyzer against a KubeTestServer and a mock Prometheus on loopback (control-plane spec §12 phase 2, §16).
@Suite("NFR analyzer", .serialized)
struct NFRAnalyzerTests {
    private func withWorld<T: Sendable>(
        _ body: (KubeTestServer, KubeClient, MockPrometheus) async throws -> T
    ) async throws -> T {
        try await MockPrometheus.withRunning { mock in
            try await CRMHarness.withServer { server, client in try await body(server, client, mock) }
        }
    }

    private func observed(_ server: KubeTestServer, _ name: String = NFRFixtures.name) -> TestJSON? {
        CRMHarness.condition(server, name, "NfrObserved")
    }

    @Test func exactQueriesGiveIntegerRecommendations() async throws {
        try await withWorld { server, client, mock in
            try await NFRFixtures.create(client, NFRFixtures.runtime(nfr: .init(minThroughputRps: 40, maxLatencyMs: 100)))
            // Averages: cpu 1200 m, memory 100 MB, 50 rps, p99 95 ms (within 10 % of the 100 ms bound).
            NFRFixtures.script(mock, cpuMillis: [1000, 1400], memoryBytes: [90_000_000, 110_000_000], rps: [40, 60],
                               p99: [90, 100])
            await NFRFixtures.analyzerPass(client, mock).runOnce()

            let q = NFRFixtures.queries()
            #expect(mock.queries == [q.rps, q.p99, q.cpu, q.memory].sorted())
            let rangeRequests = mock.requests.filter { $0.path == "/api/v1/query_range" }
            #expect(rangeRequests.count == 4)
            #expect(rangeRequests.allSatisfy { request in
                guard let start = request.parameters["start"].flatMap(Double.init),
                      let end = request.parameters["end"].flatMap(Double.init) else { return false }
                return request.parameters["step"] == "30s" && abs(end - start - 600) < 0.01
            })
            #expect(!mock.requests.contains { $0.path == "/api/v1/query" })

            let status = try #require(NFRFixtures.status(server))
            // (40 / 50) × 1200 / 500 = 1.92 → 2; cpu ⌈1200 × 1.3⌉; memory ⌈100 MB × 1.2⌉ — all JSON integers.
            let recs = try #require(status["nfr_recommendations"])
            #expect(recs["replicas"] == .int(2))
            #expect(recs["cpu"] == .int(1560))
            #expect(recs["memory"] == .int(120_000_000))
            #expect(recs.value(at: "functions", NFRFixtures.functionKey, "replicas") == .int(2))
            #expect(recs.value(at: "functions", NFRFixtures.functionKey, "confidence") == .double(0.8))
            let compliance = try #require(status["nfr_compliance"])
            #expect(compliance["throughput_status"]?.stringValue == "Compliant")
            #expect(compliance["latency_status"]?.stringValue == "AtRisk")
            #expect(compliance["availability_status"]?.stringValue == "Unknown")
            #expect(compliance["overall_status"]?.stringValue == "AtRisk")
            #expect(compliance["last_checked"]?.stringValue.flatMap(KubeTime.parse) != nil)
            let condition = try #require(observed(server))
            #expect(condition["status"]?.stringValue == "True")
            #expect(condition["reason"]?.stringValue == "PrometheusQueryOK")
            #expect(condition["lastTransitionTime"]?.stringValue != nil)
        }
    }

    @Test func emptyResultsGiveNoReplicaRecommendation() async throws {
        try await withWorld { server, client, mock in
            try await NFRFixtures.create(client, NFRFixtures.runtime())
            NFRFixtures.script(mock, cpuMillis: [], rps: [12])
            await NFRFixtures.analyzerPass(client, mock).runOnce()
            #expect(NFRFixtures.status(server)?["nfr_recommendations"] == nil)
            #expect(observed(server)?["status"]?.stringValue == "False")
            #expect(observed(server)?["reason"]?.stringValue == "NoData")

            // Memory alone gives a memory recommendation and still no replicas.
            NFRFixtures.script(mock, cpuMillis: [], memoryBytes: [1000])
            await NFRFixtures.analyzerPass(client, mock).runOnce()
            let recs = try #require(NFRFixtures.status(server)?["nfr_recommendations"])
            #expect(recs["memory"] == .int(1200))
            #expect(recs["replicas"] == nil)
            #expect(recs.value(at: "functions", NFRFixtures.functionKey, "replicas") == nil)
            #expect(observed(server)?["reason"]?.stringValue == "PrometheusQueryOK")

            // Data gone again: the stale recommendation is removed, not left behind.
            NFRFixtures.script(mock, cpuMillis: [])
            await NFRFixtures.analyzerPass(client, mock).runOnce()
            #expect(NFRFixtures.status(server)?["nfr_recommendations"] == nil)
        }
    }

    @Test func serverErrorMeansUnavailableAndNoRecommendations() async throws {
        try await withWorld { server, client, mock in
            try await NFRFixtures.create(client, NFRFixtures.runtime())
            mock.answerEverything(.status(500))
            await NFRFixtures.analyzerPass(client, mock).runOnce()
            let condition = try #require(observed(server))
            #expect(condition["status"]?.stringValue == "False")
            #expect(condition["reason"]?.stringValue == "PrometheusUnavailable")
            #expect(condition["message"]?.stringValue?.contains("HTTP 500") == true)
            #expect(NFRFixtures.status(server)?["nfr_recommendations"] == nil)
            #expect(NFRFixtures.status(server)?["nfr_compliance"] == nil)
            // The instant query was tried after the range query failed.
            #expect(mock.requests.contains { $0.path == "/api/v1/query" })
        }
    }

    @Test func instantQueryIsTheFallback() async throws {
        try await withWorld { server, client, mock in
            try await NFRFixtures.create(client, NFRFixtures.runtime())
            let q = NFRFixtures.queries()
            mock.answer(q.cpu, .status(503), instant: .samples([2600]))
            await NFRFixtures.analyzerPass(client, mock).runOnce()
            #expect(NFRFixtures.status(server)?.value(at: "nfr_recommendations", "replicas") == .int(6))
            #expect(mock.requests.filter { $0.path == "/api/v1/query" }.map(\.query) == [q.cpu])
        }
    }

    @Test func unreachablePrometheusIsUnavailable() async throws {
        try await CRMHarness.withServer { server, client in
            try await NFRFixtures.create(client, NFRFixtures.runtime())
            let pass = NFRAnalysisPass(client: client, config: CRMHarness.config(),
                                       prometheus: PrometheusClient(baseURL: "http://127.0.0.1:1", timeout: .milliseconds(300)),
                                       logger: CRMHarness.quietLogger())
            await pass.runOnce()
            #expect(observed(server)?["reason"]?.stringValue == "PrometheusUnavailable")
        }
    }

    @Test func queriesFollowTheActualTemplateAndSkipModeOff() async throws {
        try await withWorld { server, client, mock in
            try await NFRFixtures.create(client, NFRFixtures.runtime())
            try await NFRFixtures.create(client, NFRFixtures.runtime(name: "quiet", mode: "off"))
            // The reconciler recorded knative as the template in use.
            try await client.patchStatus(.classRuntimes, namespace: CRMHarness.namespace, name: NFRFixtures.name,
                                         ["template": "knative"])
            await NFRFixtures.analyzerPass(client, mock).runOnce()
            #expect(mock.queries.contains {
                $0.hasPrefix("sum(rate(activator_request_count{namespace_name=\"oaas-1\",configuration_name=\"\(NFRFixtures.child)\"}")
            })
            #expect(!mock.queries.contains { $0.contains("oaas_invocations_total") })
            #expect(!mock.queries.contains { $0.contains("quiet") })
            #expect(observed(server, "quiet") == nil)
            #expect(observed(server)?["reason"]?.stringValue == "NoData")
        }
    }

    @Test func otherStatusFieldsAndConditionsSurvive() async throws {
        try await withWorld { server, client, mock in
            try await NFRFixtures.create(client, NFRFixtures.runtime())
            try await client.patchStatus(.classRuntimes, namespace: CRMHarness.namespace, name: NFRFixtures.name, [
                "phase": "available", "ready": "1/1",
                "conditions": [["type": "Available", "status": "True", "reason": "Ready",
                                "lastTransitionTime": "2025-01-01T00:00:00Z"]],
            ])
            NFRFixtures.script(mock, cpuMillis: [500])
            await NFRFixtures.analyzerPass(client, mock).runOnce()
            let status = try #require(NFRFixtures.status(server))
            #expect(status["phase"]?.stringValue == "available")
            #expect(status["ready"]?.stringValue == "1/1")
            let types = status["conditions"]?.arrayValue?.compactMap { $0["type"]?.stringValue }
            #expect(types == ["Available", "NfrObserved"])
            #expect(CRMHarness.condition(server, NFRFixtures.name, "Available")?["lastTransitionTime"]?.stringValue
                == "2025-01-01T00:00:00Z")
            // A second tick with the same outcome keeps the condition's transition time.
            let first = observed(server)?["lastTransitionTime"]
            await NFRFixtures.analyzerPass(client, mock).runOnce()
            #expect(observed(server)?["lastTransitionTime"] == first)
        }
    }
}
