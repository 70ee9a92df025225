import Foundation
import GRPCCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OaaSCore
import OaaSProto
import Testing

@testable import Gateway

/// The async REST routes of spec §8.2 against an ``AsyncInvoker`` double.
@Suite("REST async invoke")
struct RESTInvokeAsyncTests {
    @Test func postSubmitsAndAnswersAccepted() async throws {
        let harness = InvokeHarness()
        try await harness.run { client in
            let response = try await client.send(.post, Path.users + "/invokes/echo/async?opt.k=v", body: Data("job".utf8))
            #expect(response.status == .accepted)
            #expect(response.contentType == "application/json")
            let body = try response.jsonObject()
            #expect(body["invocation_id"] as? String == "generated-id")
            #expect(body["result_url"] as? String == "/api/class/users/0/results/echo/async/generated-id")
            #expect(response.headers[.location] == "/api/class/users/0/results/echo/async/generated-id")
            let submitted = try #require(harness.asyncInvoker.submitted.last)
            #expect(!submitted.hasInvocationID)
            #expect(submitted.fn.fnID == "echo" && submitted.fn.payload == Data("job".utf8))
            #expect(submitted.fn.options == ["k": "v"])
        }
    }

    @Test func putChoosesTheIdOfAnObjectCall() async throws {
        let harness = InvokeHarness()
        try await harness.run { client in
            let response = try await client.send(.put, Path.object("Cart-7") + "/invokes/add/async/my-id_1", body: Data("x".utf8))
            #expect(response.status == .accepted)
            let body = try response.jsonObject()
            #expect(body["invocation_id"] as? String == "my-id_1")
            #expect(body["result_url"] as? String == "/api/class/users/0/objects-str/cart-7/results/add/async/my-id_1")
            let submitted = try #require(harness.asyncInvoker.submitted.last)
            #expect(submitted.invocationID == "my-id_1")
            #expect(submitted.obj.objectIDStr == "cart-7")
            #expect(submitted.obj.fnID == "add")
            // A numeric object keeps the numeric form.
            let numeric = try await client.send(.put, Path.object("9") + "/invokes/add/async/n1")
            #expect(try numeric.jsonObject()["result_url"] as? String == "/api/class/users/0/objects/9/results/add/async/n1")
        }
    }

    @Test func badInvocationIdsAreRejected() async throws {
        let harness = InvokeHarness()
        try await harness.run { client in
            try expectError(try await client.send(.put, Path.users + "/invokes/echo/async/bad%20id"), 400, "INVALID_ARGUMENT")
            try expectError(try await client.send(.put, Path.users + "/invokes/echo/async/" + String(repeating: "a", count: 65)), 400, "INVALID_ARGUMENT")
            #expect(harness.asyncInvoker.submitted.isEmpty)
        }
    }

    @Test(arguments: [Oaas_Invocation_AsyncState.pending, .running])
    func unfinishedResultIsAccepted(_ state: Oaas_Invocation_AsyncState) async throws {
        let harness = InvokeHarness()
        var result = Oaas_Invocation_GetResultResponse()
        result.state = state
        harness.asyncInvoker.result.withLock { $0 = result }
        try await harness.run { client in
            let response = try await client.send(.get, Path.users + "/results/echo/async/inv-1")
            #expect(response.status == .accepted)
            #expect(response.text == #"{"state":"\#(state.name)"}"#)
            let asked = try #require(harness.asyncInvoker.asked.last)
            #expect(asked.clsID == "users" && asked.fnID == "echo" && asked.invocationID == "inv-1")
        }
    }

    @Test func doneResultAnswersLikeASyncCall() async throws {
        let harness = InvokeHarness()
        var result = Oaas_Invocation_GetResultResponse()
        result.state = .done
        result.response.status = .appError
        result.response.payload = Data("nope".utf8)
        result.response.headers = ["reason": "stock"]
        harness.asyncInvoker.result.withLock { $0 = result }
        try await harness.run { client in
            let response = try await client.send(.get, Path.stringObject("c1") + "/results/add/async/inv-3", headers: headers(("accept", "application/json")))
            #expect(response.status.code == 422)
            #expect(response.text == "nope")
            #expect(response.contentType == "application/json")
            #expect(response.header("x-oprc-status") == "APP_ERROR")
            #expect(response.header("x-oprc-h-reason") == "stock")
            #expect(response.header("x-oprc-invocation-id") == "inv-3")
            #expect(harness.asyncInvoker.asked.last?.objectIDStr == "c1")
        }
    }

    @Test func unknownInvocationIsNotFound() async throws {
        let harness = InvokeHarness()
        try await harness.run { client in
            try expectError(try await client.send(.get, Path.users + "/results/echo/async/missing"), 404, "NO_INVOCATION")
            // A peer's plain NOT_FOUND means the invocation too.
            harness.asyncInvoker.resultError.withLock { $0 = OaaSError(rpcError: .init(code: .notFound, message: "unknown")) }
            try expectError(try await client.send(.get, Path.users + "/results/echo/async/missing"), 404, "NO_INVOCATION")
            // Other upstream codes pass through.
            harness.asyncInvoker.resultError.withLock { $0 = OaaSError(.noClass, "class 'users' not found") }
            try expectError(try await client.send(.get, Path.users + "/results/echo/async/missing"), 404, "NO_CLASS")
        }
    }
}
