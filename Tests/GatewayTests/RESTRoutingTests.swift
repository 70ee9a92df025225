import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import OaaSCore
import OaaSProto
import Testing

@testable import Gateway

@Suite("REST routing, envelope and metrics")
struct RESTRoutingTests {
    @Test func unknownRouteIs404Envelope() async throws {
        try await GatewayHarness().run { client in
            let response = try await client.send(.get, "/nope")
            #expect(response.status == .notFound)
            #expect(response.contentType == "application/json")
            #expect(response.text == #"{"error":{"code":"NOT_FOUND","message":"no route for GET /nope"}}"#)
            try expectError(try await client.send(.get, Path.users), 404, "NOT_FOUND")
            try expectError(try await client.send(.get, Path.object("1") + "/unknown"), 404, "NOT_FOUND")
        }
    }

    /// WebSocket routes come with a later issue; until then they are unknown routes.
    @Test(arguments: [
        (HTTPRequest.Method.get, "/api/class/users/0/objects/1/ws"),
        (.get, "/api/class/users/0/ws"),
        (.get, "/api/class/users/ws"),
    ])
    func laterRoutesAreNotFound(_ method: HTTPRequest.Method, _ uri: String) async throws {
        try await GatewayHarness().run { client in
            try expectError(try await client.send(method, uri, body: Data("payload".utf8)), 404, "NOT_FOUND")
        }
    }

    /// Invocation routes exist even without an upstream to call: they answer 503.
    @Test(arguments: [
        (HTTPRequest.Method.post, "/api/class/users/0/invokes/echo"),
        (.post, "/api/class/users/0/objects/1/invokes/echo"),
        (.post, "/api/class/users/0/invokes/echo/async"),
        (.put, "/api/class/users/0/objects-str/a/invokes/echo/async/inv-1"),
        (.get, "/api/class/users/0/results/echo/async/inv-1"),
    ])
    func invocationRoutesWithoutUpstreamAreUnavailable(_ method: HTTPRequest.Method, _ uri: String) async throws {
        try await GatewayHarness().run { client in
            try expectError(try await client.send(method, uri, body: Data("payload".utf8)), 503, "UNAVAILABLE")
        }
    }

    @Test func wrongMethodIs405() async throws {
        try await GatewayHarness().run { client in
            let response = try await client.send(.post, Path.object("1"))
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, PUT, PATCH, DELETE")
            #expect(response.text == #"{"error":{"code":"METHOD_NOT_ALLOWED","message":"method POST not allowed on /api/class/{cls}/{pid}/objects/{oid}; allowed: GET, PUT, PATCH, DELETE"}}"#)
            try expectError(try await client.send(.post, "/api/capabilities"), 405, "METHOD_NOT_ALLOWED")
            try expectError(try await client.send(.delete, Path.users + "/objects"), 405, "METHOD_NOT_ALLOWED")
            try expectError(try await client.send(.get, Path.object("1") + "/batch-set"), 405, "METHOD_NOT_ALLOWED")
            try expectError(try await client.send(.post, Path.stringObject("a") + "/entries-str/k"), 405, "METHOD_NOT_ALLOWED")
            try expectError(try await client.send(.patch, Path.object("1") + "/entries"), 405, "METHOD_NOT_ALLOWED")
        }
    }

    @Test func routesAddedAfterRegisterStillWork() async throws {
        let harness = GatewayHarness()
        try await harness.run(extra: { router in
            router.get("/healthz") { _, _ in "ok" }
            router.get("/boom") { _, _ -> String in throw HTTPError(.serviceUnavailable, message: "not ready") }
        }) { client in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(health.text == "ok")
            // Errors from others' routes get the envelope too.
            let boom = try await client.send(.get, "/boom")
            #expect(boom.text == #"{"error":{"code":"UNAVAILABLE","message":"not ready"}}"#)
            #expect(boom.status == .serviceUnavailable)
            // And our routes are unaffected.
            #expect(try await client.send(.get, "/api/capabilities").status == .ok)
        }
    }

    @Test func requestMetricsUseRouteTemplates() async throws {
        let harness = GatewayHarness()
        let metrics = harness.metrics
        try await harness.run { client in
            _ = try await client.send(.put, Path.object("42"), json: "{}")
            _ = try await client.send(.get, Path.object("42"))
            _ = try await client.send(.get, Path.object("43"))
            _ = try await client.send(.get, "/definitely/not/here")
            _ = try await client.send(.post, Path.object("42"))
        }
        let template = "/api/class/{cls}/{pid}/objects/{oid}"
        #expect(metrics.count("http_requests_total", [("method", "PUT"), ("route", template), ("status", "204")]) == 1)
        #expect(metrics.count("http_requests_total", [("method", "GET"), ("route", template), ("status", "200")]) == 1)
        #expect(metrics.count("http_requests_total", [("method", "GET"), ("route", template), ("status", "404")]) == 1)
        #expect(metrics.count("http_requests_total", [("method", "GET"), ("route", "NotFound"), ("status", "404")]) == 1)
        #expect(metrics.count("http_requests_total", [("method", "POST"), ("route", template), ("status", "405")]) == 1)
        #expect(metrics.timerSamples("http_request_duration_seconds", [("method", "GET"), ("route", template)]).count == 2)
        #expect(metrics.value("http_active_requests") == 0)
    }

    @Test func activeRequestsGaugeCountsInFlight() async throws {
        let store = FakeObjectStore()
        await store.setDelay(.milliseconds(300))
        let harness = GatewayHarness(store: store)
        let metrics = harness.metrics
        try await harness.run { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await client.send(.get, "/api/capabilities") }
                var peak = 0.0
                for _ in 0..<50 {
                    peak = max(peak, metrics.value("http_active_requests") ?? 0)
                    if peak >= 1 { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(peak == 1)
                try await group.waitForAll()
            }
        }
        #expect(metrics.value("http_active_requests") == 0)
    }

    @Test func rawStoreIsWrappedSoIdsAreStillValidated() async throws {
        let store = FakeObjectStore()
        let metrics = TestMetrics()
        let router = Router()
        GatewayRoutes(store: store, config: GatewayConfig(), logger: Logger(label: "test"), metricsFactory: metrics).register(on: router)
        try await Application(router: router).test(.router) { client in
            try expectError(try await client.send(.get, Path.object("Bad$Id")), 400, "INVALID_OBJECT_ID")
            #expect(try await client.send(.put, Path.stringObject("MiXed"), json: "{}").status == .noContent)
        }
        #expect(await store.lastRequest(Oprc_SetObjectRequest.self)?.objectIDStr == "mixed")
        #expect(metrics.count("gateway_string_id_attempt_total") == 2)
        #expect(metrics.count("gateway_string_id_rejected_total") == 1)
    }

    /// Over a real HTTP/1.1 connection: a refused oversized body leaves the connection usable.
    @Test func liveServerPayloadLimit() async throws {
        let harness = GatewayHarness(config: GatewayConfig(maxPayloadBytes: 1024))
        try await harness.run(.live) { client in
            let big = try await client.send(.put, Path.object("1") + "/entries/k", body: Data(repeating: 1, count: 64 * 1024))
            try expectError(big, 413, "PAYLOAD_TOO_LARGE")
            let small = try await client.send(.put, Path.object("1") + "/entries/k", body: Data("v".utf8))
            #expect(small.status == .noContent)
            let get = try await client.send(.get, Path.object("1") + "/entries/k")
            #expect(get.text == "v")
            try expectError(try await client.send(.get, "/nope"), 404, "NOT_FOUND")
        }
    }

    @Test func headerNamesArePinned() {
        #expect(OprcHeader.objectVersion.canonicalName == "x-oprc-object-version")
        #expect(OprcHeader.valueType.canonicalName == "x-oprc-val-type")
        #expect(OprcHeader.timeoutMs.canonicalName == "x-oprc-timeout-ms")
        #expect(OprcHeader.traceparent.canonicalName == "traceparent")
        #expect(OprcHeader.tracestate.canonicalName == "tracestate")
    }
}
