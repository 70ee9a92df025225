import Foundation
import OaaSCore
import OaaSProto
import Testing

@testable import Gateway

@Suite("GatewayObjectStore")
struct GatewayObjectStoreTests {
    private func make(_ config: GatewayConfig = GatewayConfig(retryBackoff: .milliseconds(1))) -> (GatewayObjectStore, FakeObjectStore, TestMetrics) {
        let fake = FakeObjectStore()
        let metrics = TestMetrics()
        return (GatewayObjectStore(upstream: fake, config: config, metricsFactory: metrics), fake, metrics)
    }

    private func single(_ string: String? = nil, numeric: UInt64 = 0) -> Oprc_SingleObjectRequest {
        var request = Oprc_SingleObjectRequest()
        request.clsID = "users"
        request.objectID = numeric
        if let string { request.objectIDStr = string }
        return request
    }

    @Test func forwardsTheNormalizedId() async throws {
        let (store, fake, metrics) = make()
        await #expect(throws: OaaSError(.noObject, "object not found")) {
            try await store.get(single("User-42"), context: CallContext())
        }
        #expect(await fake.lastRequest(Oprc_SingleObjectRequest.self)?.objectIDStr == "user-42")
        #expect(metrics.count("gateway_string_id_attempt_total") == 1)
        #expect(metrics.count("gateway_string_id_rejected_total") == 0)
    }

    @Test func identityRulesInOrder() async throws {
        let (store, fake, metrics) = make(GatewayConfig(maxStringIdLength: 8))
        let cases: [(Oprc_SingleObjectRequest, String)] = [
            (single("a", numeric: 1), "exactly one of object_id or object_id_str must be set"),
            (single(), "object_id must be non-zero (0 means unset)"),
            (single(""), "object_id_str must not be empty"),
            (single("abcdefghi"), "object_id_str length 9 exceeds maximum 8"),
        ]
        for (request, message) in cases {
            await #expect(throws: OaaSError(.invalidObjectId, message)) {
                try await store.get(request, context: CallContext())
            }
        }
        #expect(await fake.callNames.isEmpty)
        // Three of the four carried a string id; all three were rejected.
        #expect(metrics.count("gateway_string_id_attempt_total") == 3)
        #expect(metrics.count("gateway_string_id_rejected_total") == 3)
    }

    @Test func messageShapeFirst() async throws {
        let (store, fake, _) = make()
        var set = Oprc_SetObjectRequest()
        set.objectIDStr = "Bad$"
        await #expect(throws: OaaSError(.invalidArgument, "object required")) {
            _ = try await store.set(set, context: CallContext())
        }
        var setKey = Oprc_SetKeyRequest()
        setKey.objectID = 1
        await #expect(throws: OaaSError(.invalidArgument, "value required")) {
            _ = try await store.setValue(setKey, context: CallContext())
        }
        #expect(await fake.callNames.isEmpty)
    }

    @Test func readsRetryUnavailable() async throws {
        let (store, fake, metrics) = make(GatewayConfig(retryAttempts: 1, retryBackoff: .milliseconds(1)))
        await fake.failNext(1)
        let caps = try await store.capabilities(context: CallContext())
        #expect(caps.stringIds)
        #expect(await fake.callNames == ["capabilities", "capabilities"])
        #expect(metrics.count("gateway_upstream_errors_total", [("code", "UNAVAILABLE")]) == 1)

        // Two failures exceed one retry.
        await fake.failNext(2)
        await #expect(throws: OaaSError(.unavailable, "shard not ready")) {
            _ = try await store.get(single("a"), context: CallContext())
        }
        #expect(await fake.callNames.count == 4)
        // A string id is counted once per request, not per attempt.
        #expect(metrics.count("gateway_string_id_attempt_total") == 1)
    }

    @Test func writesAreNotRetried() async throws {
        let (store, fake, _) = make(GatewayConfig(retryAttempts: 3, retryBackoff: .milliseconds(1)))
        await fake.failNext(1)
        var request = Oprc_SetObjectRequest()
        request.clsID = "users"
        request.objectID = 1
        request.object = Oprc_ObjData()
        await #expect(throws: OaaSError(.unavailable, "shard not ready")) {
            _ = try await store.set(request, context: CallContext())
        }
        #expect(await fake.callNames == ["set"])
    }

    @Test func otherErrorsAreNotRetried() async throws {
        let (store, fake, metrics) = make(GatewayConfig(retryAttempts: 3, retryBackoff: .milliseconds(1)))
        await #expect(throws: OaaSError(.noObject, "object not found")) {
            _ = try await store.get(single(numeric: 5), context: CallContext())
        }
        #expect(await fake.callNames == ["get"])
        #expect(metrics.count("gateway_upstream_errors_total", [("code", "NO_OBJECT")]) == 1)
    }

    @Test func deadlineExpiry() async throws {
        let (store, fake, _) = make()
        await fake.setDelay(.seconds(10))
        let start = ContinuousClock.now
        await #expect(throws: OaaSError(.deadlineExceeded, "deadline exceeded")) {
            _ = try await store.stats(context: CallContext(deadline: .now + .milliseconds(50)))
        }
        // Well below the upstream's 10 s delay: the call was cut short, with room for a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(9))
        await #expect(throws: OaaSError(.deadlineExceeded, "deadline exceeded before the call was sent")) {
            _ = try await store.stats(context: CallContext(deadline: .now - .milliseconds(1)))
        }
    }

    @Test func batchKeepsTheIdNormalized() async throws {
        let (store, fake, _) = make()
        var batch = Oprc_BatchSetValuesRequest()
        batch.clsID = "users"
        batch.objectIDStr = "Cart-1"
        batch.values = ["a": value("x")]
        let version = try await store.batchSetValues(batch, context: CallContext())
        #expect(version == 1)
        #expect(await fake.lastRequest(Oprc_BatchSetValuesRequest.self)?.objectIDStr == "cart-1")
    }
}
