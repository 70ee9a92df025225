import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OaaSCore
import OaaSProto
import Testing

@testable import Gateway

/// POST `B/invokes/{fn}` and `O/invokes/{fn}` (spec §8.2) with the response mapping of §5.3 and
/// the options of §5.4.
@Suite("REST invoke")
struct RESTInvokeTests {
    @Test(arguments: [
        (Oprc_ResponseStatus.okay, 200, "OKAY"),
        (.invalidRequest, 400, "INVALID_REQUEST"),
        (.appError, 422, "APP_ERROR"),
        (.systemError, 502, "SYSTEM_ERROR"),
    ])
    func statusMapsToHTTP(_ status: Oprc_ResponseStatus, _ code: Int, _ name: String) async throws {
        let invoker = FakeInvoker(FakeInvoker.answer(status, payload: "body", headers: ["x-trace": "t1", "Retry": "no"], id: "inv-9"))
        try await InvokeHarness(invoker: invoker).run { client in
            let response = try await client.send(.post, Path.users + "/invokes/echo", body: Data("in".utf8))
            #expect(response.status.code == code)
            #expect(response.text == "body")
            #expect(response.header("x-oprc-status") == name)
            #expect(response.header("x-oprc-invocation-id") == "inv-9")
            #expect(response.header("x-oprc-h-x-trace") == "t1")
            #expect(response.header("x-oprc-h-retry") == "no")
            #expect(response.contentType == "application/octet-stream")
        }
    }

    @Test(arguments: [
        (Oprc_ResponseStatus.invalidRequest, 400, "INVALID_REQUEST"),
        (.appError, 422, "APP_ERROR"),
        (.systemError, 502, "SYSTEM_ERROR"),
    ])
    func nonOkayWithoutPayloadIsTheEnvelope(_ status: Oprc_ResponseStatus, _ code: Int, _ name: String) async throws {
        let invoker = FakeInvoker(FakeInvoker.answer(status, headers: ["content-type": "text/plain"], id: "inv-2"))
        try await InvokeHarness(invoker: invoker).run { client in
            let response = try await client.send(.post, Path.users + "/invokes/echo")
            try expectError(response, code, name)
            #expect(response.header("x-oprc-status") == name)
            #expect(response.header("x-oprc-invocation-id") == "inv-2")
        }
    }

    @Test func okayWithoutPayloadIsAnEmptyBody() async throws {
        try await InvokeHarness(invoker: FakeInvoker(FakeInvoker.answer(.okay))).run { client in
            let response = try await client.send(.post, Path.users + "/invokes/echo")
            #expect(response.status == .ok)
            #expect(response.text.isEmpty)
            #expect(response.header("x-oprc-invocation-id") == nil)
        }
    }

    @Test func contentTypeRules() async throws {
        let invoker = FakeInvoker()
        try await InvokeHarness(invoker: invoker).run { client in
            // No function content-type: JSON if Accept asks for it, else octet-stream.
            let json = try await client.send(.post, Path.users + "/invokes/echo", headers: headers(("accept", "text/html, application/json")), body: Data("{}".utf8))
            #expect(json.contentType == "application/json")
            #expect(json.text == "{}")
            let raw = try await client.send(.post, Path.users + "/invokes/echo", headers: headers(("accept", "text/plain")))
            #expect(raw.contentType == "application/octet-stream")
            // The function's content-type wins, and is not repeated as x-oprc-h-content-type.
            invoker.respond(FakeInvoker.answer(.okay, payload: "<p/>", headers: ["Content-Type": "text/html"]))
            let typed = try await client.send(.post, Path.users + "/invokes/echo", headers: headers(("accept", "application/json")))
            #expect(typed.contentType == "text/html")
            #expect(typed.header("x-oprc-h-content-type") == nil)
        }
    }

    @Test func optionsFromHeadersAndQueryReachTheInvoker() async throws {
        let invoker = FakeInvoker()
        try await InvokeHarness(invoker: invoker).run { client in
            let request = headers(
                ("accept", "application/json"), ("content-type", "text/plain; charset=utf-8"),
                ("x-oprc-opt-Mode", "fast"), ("x-oprc-opt-both", "header"),
                ("traceparent", "00-1-2-01"), ("tracestate", "a=b")
            )
            _ = try await client.send(.post, Path.users + "/invokes/echo?opt.limit=10&opt.both=query&opt.with%20space=x%20y&other=1", headers: request)
            let call = try #require(invoker.last)
            #expect(call.options == [
                "accept": "application/json", "content-type": "text/plain; charset=utf-8",
                "mode": "fast", "both": "query", "limit": "10", "with space": "x y",
            ])
            #expect(call.context.traceparent == "00-1-2-01")
            #expect(call.context.tracestate == "a=b")
        }
    }

    @Test func emptyOptionKeysAreRejected() async throws {
        try await InvokeHarness().run { client in
            try expectError(try await client.send(.post, Path.users + "/invokes/echo?opt.=1"), 400, "INVALID_ARGUMENT")
            try expectError(try await client.send(.post, Path.users + "/invokes/echo", headers: headers(("x-oprc-opt-", "1"))), 400, "INVALID_ARGUMENT")
        }
    }

    @Test func payloadAndPartitionArriveVerbatim() async throws {
        let invoker = FakeInvoker()
        try await InvokeHarness(invoker: invoker).run { client in
            let bytes = Data([0, 1, 2, 0xFF, 0xFE])
            let response = try await client.send(.post, "/api/class/users/1/invokes/echo", body: bytes)
            #expect(response.data == bytes)
            let call = try #require(invoker.last?.fn)
            #expect(call.clsID == "users" && call.partitionID == 1 && call.fnID == "echo")
            #expect(call.payload == bytes)
        }
    }

    @Test func objectRoutesNormalizeIdsAndCountThem() async throws {
        let harness = InvokeHarness()
        try await harness.run { client in
            _ = try await client.send(.post, Path.object("42") + "/invokes/touch")
            #expect(harness.invoker.last?.obj?.objectID == 42)
            #expect(harness.invoker.last?.obj?.hasObjectIDStr == false)
            _ = try await client.send(.post, Path.object("User-1") + "/invokes/touch")
            #expect(harness.invoker.last?.obj?.objectIDStr == "user-1")
            _ = try await client.send(.post, Path.stringObject("42") + "/invokes/touch")
            #expect(harness.invoker.last?.obj?.objectIDStr == "42")
            #expect(harness.invoker.last?.obj?.objectID == 0)
            try expectError(try await client.send(.post, Path.object("Bad$") + "/invokes/touch"), 400, "INVALID_OBJECT_ID")
            #expect(harness.invoker.calls.count == 3)
            #expect(harness.metrics.count("gateway_string_id_attempt_total") == 3)
            #expect(harness.metrics.count("gateway_string_id_rejected_total") == 1)
        }
    }

    @Test func pathAndBodyProblemsNeverReachTheInvoker() async throws {
        let harness = InvokeHarness(config: GatewayConfig(maxPayloadBytes: 8))
        try await harness.run { client in
            try expectError(try await client.send(.post, "/api/class/users/x/invokes/echo"), 400, "INVALID_ARGUMENT")
            try expectError(try await client.send(.post, Path.users + "/invokes/echo", body: Data(repeating: 1, count: 9)), 413, "PAYLOAD_TOO_LARGE")
            try expectError(try await client.send(.post, Path.users + "/invokes/echo", headers: headers(("x-oprc-timeout-ms", "soon"))), 400, "INVALID_ARGUMENT")
            #expect(harness.invoker.calls.isEmpty)
            let allowed = try await client.send(.get, Path.users + "/invokes/echo")
            #expect(allowed.status == .methodNotAllowed)
            #expect(allowed.headers[.allow] == "POST")
        }
    }

    @Test(arguments: [
        (OaaSError(.noFunction, "function 'x' not found in class 'users'"), 404, "NO_FUNCTION"),
        (OaaSError(.noClass, "class 'users' not found"), 404, "NO_CLASS"),
        (OaaSError(.noPartition, "partition 0 not found"), 404, "NO_PARTITION"),
        (OaaSError(.functionDisabled, "function 'x' is disabled"), 400, "FUNCTION_DISABLED"),
        (OaaSError(.invalidArgument, "function 'x' is stateless"), 400, "INVALID_ARGUMENT"),
        (OaaSError(.unavailable, "no route"), 503, "UNAVAILABLE"),
    ])
    func upstreamErrorsKeepTheirCode(_ error: OaaSError, _ status: Int, _ code: String) async throws {
        let harness = InvokeHarness(invoker: FakeInvoker { _ in throw error })
        try await harness.run { client in
            let message = try expectError(try await client.send(.post, Path.users + "/invokes/x"), status, code)
            #expect(message == error.message)
            #expect(harness.metrics.count("gateway_upstream_errors_total", [("code", code)]) == 1)
        }
    }

    @Test func slowFunctionIsGatewayTimeout() async throws {
        let invoker = FakeInvoker { call in
            try await Task.sleep(for: .seconds(30))
            return try await FakeInvoker.echo(call)
        }
        try await InvokeHarness(config: GatewayConfig(requestTimeout: .seconds(10)), invoker: invoker).run { client in
            let start = ContinuousClock.now
            let response = try await client.send(.post, Path.users + "/invokes/slow", headers: headers(("x-oprc-timeout-ms", "150")))
            try expectError(response, 504, "DEADLINE_EXCEEDED")
            #expect(ContinuousClock.now - start < .seconds(15))  // the deadline fired, not the 30 s of the slow side
            // The invoker was given the client's deadline, set when the request arrived.
            let deadline = try #require(invoker.last?.context.deadline)
            #expect(deadline >= start + .milliseconds(150) && deadline <= ContinuousClock.now + .milliseconds(150))
        }
    }

    @Test func deadlinesAreCappedAndDefaulted() async throws {
        let invoker = FakeInvoker()
        let config = GatewayConfig(requestTimeout: .seconds(2), maxTimeout: .seconds(5))
        try await InvokeHarness(config: config, invoker: invoker).run { client in
            var start = ContinuousClock.now
            _ = try await client.send(.post, Path.users + "/invokes/echo")
            let defaulted = try #require(invoker.last?.context.deadline)
            #expect(defaulted >= start + .seconds(2) && defaulted <= ContinuousClock.now + .seconds(2))
            start = ContinuousClock.now
            _ = try await client.send(.post, Path.users + "/invokes/echo", headers: headers(("x-oprc-timeout-ms", "999999")))
            let capped = try #require(invoker.last?.context.deadline)
            #expect(capped >= start + .seconds(5) && capped <= ContinuousClock.now + .seconds(5))
        }
    }
}
