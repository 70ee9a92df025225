import Foundation
import FunctionKit
import GRPCCore
import OaaSProto
import Testing

/// The `oprc.OprcFunction` side: dispatch by fn_id, the context handlers see, status mapping.
@Suite struct InvocationTests {
    struct SeenContext: Codable, Equatable {
        var cls: String
        var fn: String
        var partition: UInt32
        var object: String?
        var objectKind: String?
        var invocationID: String?
        var depth: Int
        var traceparent: String?
        var tracestate: String?
        var hasDeadline: Bool
        var options: [String: String]
    }

    static func seen(_ call: Invocation, object: ObjectID? = nil) -> SeenContext {
        var kind: String?
        if case .numeric = object { kind = "numeric" }
        if case .string = object { kind = "string" }
        return SeenContext(
            cls: call.clsID, fn: call.fnID, partition: call.partitionID, object: object?.description, objectKind: kind,
            invocationID: call.invocationID, depth: call.triggerDepth, traceparent: call.traceparent,
            tracestate: call.tracestate, hasDeadline: call.deadline != nil, options: call.options
        )
    }

    static func app() -> FunctionApp {
        var app = FunctionApp(configuration: testConfiguration(odgm: nil))
        app.stateless("echo") { call in .ok(call.payload, contentType: call.options["content-type"]) }
        app.stateless("context") { call in try .ok(json: seen(call)) }
        app.object("context") { call in try .ok(json: seen(call.invocation, object: call.objectID)) }
        app.object("method") { _ in .ok("method") }
        app.stateless("throws") { call in
            switch call.payloadText {
            case "invalid": throw FunctionError.invalid("bad input field 'x'")
            case "app": throw FunctionError.app("insufficient funds")
            default: throw CocoaError(.fileNoSuchFile)
            }
        }
        app.stateless("returns") { call in
            switch call.payloadText {
            case "invalid": return .invalid("nope")
            case "app": return .appError("domain")
            case "system": return .systemError("broken")
            default: return FunctionResponse.ok.header("X-Custom", "1")
            }
        }
        app.stateless("json") { call in
            struct Input: Decodable { var n: Int }
            let input = try call.decode(Input.self)
            return try .ok(json: ["doubled": input.n * 2])
        }
        return app
    }

    @Test func echoReturnsPayloadVerbatimWithTheRequestedContentType() async throws {
        try await withRunningApp(Self.app()) { client in
            let bytes = Data([0, 1, 2, 255, 10])
            var request = fnRequest(fn: "echo", options: ["content-type": "application/x-demo"])
            request.payload = bytes
            let response = try await client.invokeFn(request, metadata: invocationMetadata())
            #expect(response.status == .okay)
            #expect(response.payload == bytes)
            #expect(response.headers["content-type"] == "application/x-demo")
            #expect(response.invocationID == "inv-42")

            let plain = try await client.invokeFn(fnRequest(fn: "echo", payload: "hi"))
            #expect(plain.text == "hi")
            #expect(plain.headers["content-type"] == nil)
            #expect(plain.invocationID.isEmpty)
        }
    }

    @Test func handlersSeeTheWholeInvocationContext() async throws {
        try await withRunningApp(Self.app()) { client in
            let stateless = try await client.invokeFn(
                fnRequest(cls: "shop", fn: "context", partition: 3, options: ["accept": "application/json"]),
                metadata: invocationMetadata(depth: 2), options: callOptions(timeout: .seconds(30))
            ).json(SeenContext.self)
            #expect(stateless == SeenContext(
                cls: "shop", fn: "context", partition: 3, object: nil, objectKind: nil, invocationID: "inv-42", depth: 2,
                traceparent: sampleTraceparent, tracestate: "vendor=1", hasDeadline: true, options: ["accept": "application/json"]
            ))

            let numeric = try await client.invokeObj(objRequest(cls: "shop", fn: "context", partition: 1, id: .numeric(42)))
                .json(SeenContext.self)
            #expect(numeric.object == "42" && numeric.objectKind == "numeric")
            #expect(numeric.depth == 0 && numeric.traceparent == nil && numeric.invocationID == nil)
            #expect(numeric.hasDeadline == false)

            let string = try await client.invokeObj(objRequest(fn: "context", id: .string("42"))).json(SeenContext.self)
            #expect(string.object == "42" && string.objectKind == "string")
        }
    }

    @Test func contextFallsBackToOptionsWhenMetadataLacksIt() async throws {
        try await withRunningApp(Self.app()) { client in
            let options = ["oaas-trigger-depth": "3", "oaas-invocation-id": "opt-1", "traceparent": sampleTraceparent]
            let seen = try await client.invokeFn(fnRequest(fn: "context", options: options)).json(SeenContext.self)
            #expect(seen.depth == 3)
            #expect(seen.invocationID == "opt-1")
            #expect(seen.traceparent == sampleTraceparent)
        }
    }

    @Test func thrownErrorsMapToResponseStatuses() async throws {
        try await withRunningApp(Self.app()) { client in
            let invalid = try await client.invokeFn(fnRequest(fn: "throws", payload: "invalid"))
            #expect(invalid.status == .invalidRequest)
            #expect(invalid.text == "bad input field 'x'")
            #expect(invalid.headers["content-type"] == FunctionResponse.textContentType)

            let app = try await client.invokeFn(fnRequest(fn: "throws", payload: "app"))
            #expect(app.status == .appError)
            #expect(app.text == "insufficient funds")

            let system = try await client.invokeFn(fnRequest(fn: "throws", payload: "other"))
            #expect(system.status == .systemError)
            #expect(system.text.hasPrefix("function 'throws' failed: "))
            #expect(system.text.count > "function 'throws' failed: ".count)
        }
    }

    @Test func returnedResponsesKeepTheirStatusAndHeaders() async throws {
        try await withRunningApp(Self.app()) { client in
            let statuses: [(String, Oprc_ResponseStatus, String)] = [
                ("invalid", .invalidRequest, "nope"), ("app", .appError, "domain"), ("system", .systemError, "broken"),
            ]
            for (payload, status, text) in statuses {
                let response = try await client.invokeFn(fnRequest(fn: "returns", payload: payload))
                #expect(response.status == status)
                #expect(response.text == text)
            }
            let ok = try await client.invokeFn(fnRequest(fn: "returns", payload: "ok"))
            #expect(ok.status == .okay)
            #expect(!ok.hasPayload)
            #expect(ok.headers == ["x-custom": "1"])
        }
    }

    @Test func jsonPayloadsDecodeAndBadOnesAreInvalidRequests() async throws {
        try await withRunningApp(Self.app()) { client in
            let ok = try await client.invokeFn(fnRequest(fn: "json", payload: #"{"n":21}"#))
            #expect(ok.status == .okay)
            #expect(try ok.json([String: Int].self) == ["doubled": 42])
            #expect(ok.headers["content-type"] == "application/json")

            let bad = try await client.invokeFn(fnRequest(fn: "json", payload: #"{"m":1}"#))
            #expect(bad.status == .invalidRequest)
            #expect(bad.text.contains("missing field 'n'"))
        }
    }

    @Test func unknownFunctionsAndWrongRPCsAreInvalidRequests() async throws {
        try await withRunningApp(Self.app()) { client in
            let unknown = try await client.invokeFn(fnRequest(fn: "nope"))
            #expect(unknown.status == .invalidRequest)
            #expect(unknown.text.contains("function 'nope' is not served by this runtime"))
            #expect(unknown.text.contains("'echo'"))

            let unknownObj = try await client.invokeObj(objRequest(fn: "nope", id: 1))
            #expect(unknownObj.status == .invalidRequest)

            let wrongFn = try await client.invokeFn(fnRequest(fn: "method"))
            #expect(wrongFn.status == .invalidRequest)
            #expect(wrongFn.text.contains("InvokeObj"))

            let wrongObj = try await client.invokeObj(objRequest(fn: "echo", id: 1))
            #expect(wrongObj.status == .invalidRequest)
            #expect(wrongObj.text.contains("InvokeFn"))

            let empty = try await client.invokeFn(fnRequest(fn: ""))
            #expect(empty.status == .invalidRequest)
            #expect(empty.text == "fn_id required")
        }
    }

    @Test func malformedObjectIdsNeverReachTheHandler() async throws {
        try await withRunningApp(Self.app()) { client in
            let neither = try await client.invokeObj(objRequest(fn: "context", id: .numeric(0)))
            #expect(neither.status == .invalidRequest)
            #expect(neither.text == "object_id must be non-zero (0 means unset)")

            var both = objRequest(fn: "context", id: .string("a"))
            both.objectID = 7
            let bothResponse = try await client.invokeObj(both)
            #expect(bothResponse.status == .invalidRequest)
            #expect(bothResponse.text == "exactly one of object_id or object_id_str must be set")

            let empty = try await client.invokeObj(objRequest(fn: "context", id: .string("")))
            #expect(empty.status == .invalidRequest)
            #expect(empty.text == "object_id_str must not be empty")
        }
    }

    @Test func registrationListsFunctionsAndReplacesDuplicates() async throws {
        var app = FunctionApp(configuration: testConfiguration(odgm: nil))
        app.stateless("b") { _ in .ok("first") }
        app.stateless("b") { _ in .ok("second") }
        app.object("a") { _ in .ok }
        app.object("b") { _ in .ok("object") }
        #expect(app.functionIDs == ["a", "b"])
        try await withRunningApp(app) { client in
            let stateless = try await client.invokeFn(fnRequest(fn: "b"))
            #expect(stateless.text == "second")
            let object = try await client.invokeObj(objRequest(fn: "b", id: 5))
            #expect(object.text == "object")
        }
    }
}
