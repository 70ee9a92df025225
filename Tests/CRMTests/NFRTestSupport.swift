import Foundation
import HTTPTestSupport
import Hummingbird
import Kube
import KubeTestServer
import Logging
import NIOCore
import Synchronization
import Testing

@testable import CRM

/// A Prometheus HTTP API stand-in on a loopback port: answers `/api/v1/query_range` and `/api/v1/query` for the
/// exact PromQL strings it was given (anything else gets an empty result), and records every query it saw.
final class MockPrometheus: Sendable {
    enum Answer: Sendable {
        /// One series with these samples (the range average is their mean).
        case samples([Double])
        /// Several series.
        case series([[Double]])
        /// `status: success` with no series.
        case empty
        /// This HTTP status with a non-Prometheus body.
        case status(Int)
    }

    struct Seen: Sendable, Equatable {
        var path: String
        var query: String
        var parameters: [String: String]
    }

    struct State: Sendable {
        var range: [String: Answer] = [:]
        var instant: [String: Answer] = [:]
        /// For queries nobody scripted.
        var otherwise: Answer = .empty
        var requests: [Seen] = []
    }

    private let box: Box
    let url: String

    private init(box: Box, url: String) {
        self.box = box
        self.url = url
    }

    /// Sets the answer to `query` for range queries and (unless given separately) instant queries.
    func answer(_ query: String, _ answer: Answer, instant: Answer? = nil) {
        box.state.withLock {
            $0.range[query] = answer
            $0.instant[query] = instant ?? answer
        }
    }

    func answerEverything(_ answer: Answer) {
        box.state.withLock {
            $0.range = [:]
            $0.instant = [:]
            $0.otherwise = answer
        }
    }

    var requests: [Seen] { box.state.withLock { $0.requests } }
    /// Distinct PromQL strings asked, sorted.
    var queries: [String] { Array(Set(requests.map(\.query))).sorted() }

    static func withRunning<T: Sendable>(_ body: (MockPrometheus) async throws -> T) async throws -> T {
        let shared = Box()
        let router = Router()
        router.get("/api/v1/query_range") { request, _ in shared.respond(request, range: true) }
        router.get("/api/v1/query") { request, _ in shared.respond(request, range: false) }
        let logger = Logger(label: "mock-prometheus", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try await BackgroundApplication.start(name: "mock Prometheus", logger: logger) {
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                        onServerRunning: $0, logger: logger)
        }
        let mock = MockPrometheus(box: shared, url: "http://127.0.0.1:\(server.port)")
        return try await server.whileRunning { try await body(mock) }
    }

    private final class Box: Sendable {
        let state = Mutex(State())

        func respond(_ request: Hummingbird.Request, range: Bool) -> Response {
            var parameters: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
            let query = parameters["query"] ?? ""
            let answer = state.withLock { state -> Answer in
                state.requests.append(.init(path: request.uri.path, query: query, parameters: parameters))
                return (range ? state.range[query] : state.instant[query]) ?? state.otherwise
            }
            switch answer {
            case .status(let code):
                return Response(status: .init(code: code), headers: [.contentType: "text/plain"],
                                body: .init(byteBuffer: ByteBuffer(string: "upstream trouble")))
            case .empty:
                return Self.json(range ? #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#
                    : #"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
            case .samples(let values):
                return Self.json(Self.body([values], range: range))
            case .series(let series):
                return Self.json(Self.body(series, range: range))
            }
        }

        private static func body(_ series: [[Double]], range: Bool) -> String {
            let items = series.map { values -> String in
                if range {
                    let pairs = values.enumerated().map { "[\(1_700_000_000 + $0.offset * 30),\"\($0.element)\"]" }
                    return #"{"metric":{},"values":["# + pairs.joined(separator: ",") + "]}"
                }
                return #"{"metric":{},"value":[1700000000,""# + "\(values.last ?? 0)" + #""]}"#
            }
            return #"{"status":"success","data":{"resultType":""# + (range ? "matrix" : "vector")
                + #"","result":["# + items.joined(separator: ",") + "]}}"
        }

        private static func json(_ text: String) -> Response {
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}

/// A controllable clock for the enforcer's stability and cooldown windows.
final class NFRTestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_700_000_000))

    var now: Date { current.withLock { $0 } }

    func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// ClassRuntimes and queries of the NFR tests.
enum NFRFixtures {
    static let name = "cart-1a2b3c4d"
    static let functionKey = "Cart.add"
    static var child: String { CRMNames.functionChild(cr: name, functionKey: functionKey) }

    /// One container function, ODGM off (fewer objects), the given enforcement and NFRs.
    static func runtime(
        name: String = name, functions: [String] = [functionKey], mode: String? = "enforce",
        dimensions: [String] = [], template: String? = nil, nfr: ClassRuntimeSpec.Nfr? = nil
    ) -> ClassRuntime {
        let spec = ClassRuntimeSpec(
            packageClassKey: "shop.Cart", packageName: "shop", classKey: "Cart", deploymentKey: "cart",
            targetEnv: CRMHarness.namespace, selectedTemplate: template, addons: [],
            functions: functions.map {
                .init(functionKey: $0, provisionConfig: .init(containerImage: "registry.local/\($0.lowercased()):1"))
            },
            functionBindings: functions.enumerated().map { .init(name: "m\($0.offset)", functionKey: $0.element) },
            nfrRequirements: nfr, enforcement: mode.map { .init(mode: $0, dimensions: dimensions) })
        return ClassRuntime(name: name, namespace: CRMHarness.namespace, spec: spec,
                            labels: [CRMKeys.deploymentId: name], finalizers: [CRMKeys.finalizer])
    }

    @discardableResult
    static func create(_ client: KubeClient, _ runtime: ClassRuntime) async throws -> KubeObject {
        try await client.create(.classRuntimes, runtime.applyObject())
    }

    static func read(_ client: KubeClient, _ name: String = name) async throws -> ClassRuntime {
        try ClassRuntime(object: try await client.get(.classRuntimes, namespace: CRMHarness.namespace, name: name))
    }

    /// The four default (non-Knative) queries of `child`.
    static func queries(_ child: String = child) -> NFRQuerySet {
        let ns = CRMHarness.namespace
        return NFRQuerySet(
            rps: #"sum(rate(oaas_invocations_total{namespace="\#(ns)",oaas_owner="\#(child)"}[1m]))"#,
            p99: #"1000*histogram_quantile(0.99, sum(rate(oaas_invocation_duration_seconds_bucket{namespace="\#(ns)",oaas_owner="\#(child)"}[5m])) by (le))"#,
            cpu: #"1000*sum(rate(container_cpu_usage_seconds_total{namespace="\#(ns)",pod=~"\#(child)-.*",container!=""}[5m]))"#,
            memory: #"sum(container_memory_working_set_bytes{namespace="\#(ns)",pod=~"\#(child)-.*",container!=""})"#)
    }

    /// Scripts `mock` so that `child` recommends `replicas` replicas: cpu = replicas × 500 m (REQ_CPU_PER_POD_M
    /// default), no throughput target, a fast p99.
    static func script(_ mock: MockPrometheus, child: String = child, cpuMillis: [Double], memoryBytes: [Double] = [],
                       rps: [Double] = [], p99: [Double] = []) {
        let q = queries(child)
        mock.answer(q.cpu, cpuMillis.isEmpty ? .empty : .samples(cpuMillis))
        mock.answer(q.memory, memoryBytes.isEmpty ? .empty : .samples(memoryBytes))
        mock.answer(q.rps, rps.isEmpty ? .empty : .samples(rps))
        mock.answer(q.p99, p99.isEmpty ? .empty : .samples(p99))
    }

    static func analyzerPass(_ client: KubeClient, _ mock: MockPrometheus, config: CRMConfig = CRMHarness.config())
        -> NFRAnalysisPass
    {
        NFRAnalysisPass(client: client, config: config,
                        prometheus: PrometheusClient(baseURL: mock.url, timeout: .seconds(2)),
                        logger: CRMHarness.quietLogger())
    }

    /// Status of the CR as the server holds it.
    static func status(_ server: KubeTestServer, _ name: String = name) -> TestJSON? {
        CRMHarness.runtime(server, name)?["status"]
    }
}

extension NFRFixtures {
    /// What the reconciler would have done for `runtime` (children applied as `oprc-crm`, template recorded), plus
    /// the analyzer's `recommendations` in the status.
    static func seed(_ client: KubeClient, _ runtime: ClassRuntime, config: CRMConfig,
                     recommendations: JSONValue) async throws {
        let stored = try ClassRuntime(object: try await create(client, runtime))
        let rendered = try Renderer.render(stored, context: config.renderContext())
        for child in rendered.children {
            try await client.apply(child.resource, child.object, fieldManager: CRMKeys.fieldManager, force: true)
        }
        try await client.patchStatus(.classRuntimes, namespace: CRMHarness.namespace, name: runtime.name, [
            "template": .string(rendered.template.name), "nfr_recommendations": recommendations,
        ])
    }

    static func enforcerPass(_ client: KubeClient, config: CRMConfig, clock: NFRTestClock) -> NFREnforcementPass {
        NFREnforcementPass(client: client, config: config, logger: CRMHarness.quietLogger(), now: { clock.now })
    }

    static func messages(_ server: KubeTestServer, _ reason: String) -> [String] {
        CRMHarness.events(server, reason: reason).compactMap { $0["message"]?.stringValue }
    }

    /// Reasons of every `NFR…` Event.
    static func nfrEventReasons(_ server: KubeTestServer) -> [String] {
        CRMHarness.events(server).compactMap { event -> String? in
            guard let reason = event["reason"]?.stringValue, reason.hasPrefix("NFR") else { return nil }
            return reason
        }
    }

    static func replicas(_ server: KubeTestServer, _ child: String = child) -> Int64? {
        CRMHarness.object(server, "deployments.apps", child)?.value(at: "spec", "replicas")?.intValue
    }

    /// Managers that own `path` (FieldsV1 steps) of the object.
    static func owners(_ object: TestJSON?, _ path: [String]) -> [String] {
        (object?.value(at: "metadata", "managedFields")?.arrayValue ?? []).compactMap { entry in
            entry["fieldsV1"]?.value(at: path) == nil ? nil : entry["manager"]?.stringValue
        }.sorted()
    }
}
