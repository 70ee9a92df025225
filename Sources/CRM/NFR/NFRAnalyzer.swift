import AsyncHTTPClient
import Foundation
import Kube
import Logging

/// NFR phase 2 (control-plane spec §12): while this replica leads and `OPRC_CRM_PROM_URL` is set, every
/// `OPRC_CRM_ANALYZER_INTERVAL_SECS` each ClassRuntime whose enforcement mode is not `off` gets per-function
/// recommendations (`status.nfr_recommendations`), compliance (`status.nfr_compliance`) and the `NfrObserved`
/// condition, computed from Prometheus.
public struct NFRAnalyzer: CRMLeaderTask {
    public let name = "nfr-analyzer"
    let http: HTTPClient

    public init(http: HTTPClient = .shared) {
        self.http = http
    }

    public func run(context: CRMLeaderContext) async throws {
        var logger = context.logger
        logger[metadataKey: "task"] = "\(name)"
        guard let prometheus = PrometheusClient(config: context.config, http: http) else {
            logger.info("NFR analyzer off: OPRC_CRM_PROM_URL is not set")
            return
        }
        let pass = NFRAnalysisPass(client: context.client, config: context.config, prometheus: prometheus,
                                   logger: logger)
        logger.info("NFR analyzer started", metadata: ["prometheus": "\(prometheus.baseURL)",
                                                       "interval": "\(context.config.analyzerInterval)"])
        while !Task.isCancelled {
            await pass.runOnce()
            do {
                try await Task.sleep(for: context.config.analyzerInterval)
            } catch {
                return
            }
        }
    }
}

/// One analyzer tick over every ClassRuntime of the namespace.
struct NFRAnalysisPass: Sendable {
    /// What one ClassRuntime's queries produced.
    struct Outcome: Sendable, Equatable {
        enum Kind: Sendable, Equatable {
            case observed
            case noData
            case unavailable
        }

        var kind: Kind
        var message: String
        var recommendations = NFRRecommendationSet([])
        var compliance = NFRComplianceReport()
    }

    let client: KubeClient
    let config: CRMConfig
    let prometheus: PrometheusClient
    let logger: Logger
    var now: @Sendable () -> Date = { Date() }

    func runOnce() async {
        let list: KubeList
        do {
            list = try await client.list(.classRuntimes, namespace: config.namespace)
        } catch {
            logger.warning("cannot list ClassRuntimes", metadata: ["error": "\(error)"])
            return
        }
        for object in list.items {
            guard !Task.isCancelled else { return }
            // An unreadable spec is the reconciler's to report (Degraded TemplateError).
            guard let runtime = try? ClassRuntime(object: object), !runtime.isBeingDeleted,
                  runtime.enforcementMode != "off"
            else { continue }
            let outcome = await analyze(runtime)
            do {
                try await write(outcome, for: runtime)
            } catch {
                logger.warning("cannot write NFR status", metadata: ["classruntime": "\(runtime.name)",
                                                                    "error": "\(error)"])
            }
        }
    }

    /// Queries Prometheus for each container function and derives recommendations and compliance. Any failed query
    /// makes the whole ClassRuntime `unavailable`: a partial picture would recommend from half the data.
    func analyze(_ runtime: ClassRuntime) async -> Outcome {
        let functions = runtime.containerFunctions
        guard !functions.isEmpty else {
            return Outcome(kind: .noData, message: "no container function to observe")
        }
        let template = runtime.actualTemplate(config)
        let namespace = runtime.namespace.isEmpty ? config.namespace : runtime.namespace
        var recommendations: [(key: String, recommendation: NFRRecommendation)] = []
        var reports: [NFRComplianceReport] = []
        var silent: [String] = []
        for function in functions {
            let child = CRMNames.functionChild(cr: runtime.name, functionKey: function.functionKey)
            let queries = NFRQueries.queries(template: template, namespace: namespace, child: child,
                                             overrides: config.prometheusQueries)
            let observation: NFRObservation
            do {
                observation = try await observe(queries)
            } catch {
                logger.info("Prometheus query failed", metadata: ["classruntime": "\(runtime.name)",
                                                                  "function": "\(function.functionKey)",
                                                                  "error": "\(error)"])
                return Outcome(kind: .unavailable, message: "\(error)")
            }
            let targets = runtime.nfrTargets(for: function)
            let recommendation = NFRMath.recommend(observation, targets: targets,
                                                   requestCPUPerPodMillis: config.requestCPUPerPodMillis)
            if recommendation.isEmpty { silent.append(function.functionKey) }
            recommendations.append((function.functionKey, recommendation))
            reports.append(NFRMath.compliance(observation, targets: targets))
        }
        let set = NFRRecommendationSet(recommendations)
        let compliance = NFRComplianceReport.combined(reports)
        guard !set.functions.isEmpty else {
            return Outcome(kind: .noData, message: "Prometheus has no samples for \(silent.joined(separator: ", "))",
                           recommendations: set, compliance: compliance)
        }
        var message = "recommendations for \(set.functions.count) of \(functions.count) function(s) (template \(template))"
        if !silent.isEmpty { message += "; no samples for \(silent.joined(separator: ", "))" }
        return Outcome(kind: .observed, message: message, recommendations: set, compliance: compliance)
    }

    /// The four signals of one function, queried concurrently.
    func observe(_ queries: NFRQuerySet) async throws -> NFRObservation {
        async let rps = prometheus.average(queries.rps, combining: .sum)
        async let p99 = prometheus.average(queries.p99, combining: .max)
        async let cpu = prometheus.average(queries.cpu, combining: .sum)
        async let memory = prometheus.average(queries.memory, combining: .sum)
        return try await NFRObservation(rps: rps, p99Millis: p99, cpuMillis: cpu, memoryBytes: memory)
    }
}
