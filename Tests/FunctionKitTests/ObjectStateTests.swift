import Foundation
import FunctionKit
import GRPCCore
import OaaSProto
import Testing

/// The object client: right object, right keys, context propagated to every DataService call.
@Suite struct ObjectStateTests {
    static func counterApp(_ odgm: ServiceAddress?) -> FunctionApp {
        var app = FunctionApp(configuration: testConfiguration(odgm: odgm))
        app.object("count") { call in
            let n = try await call.object.string("count").flatMap { Int($0) } ?? 0
            try await call.object.set("count", String(n + 1))
            return try .ok(json: ["count": n + 1])
        }
        return app
    }

    @Test func objectMethodsReadAndWriteTheInvokedObjectAndPropagateContext() async throws {
        try await withFakeODGM { odgm, address in
            try await withRunningApp(Self.counterApp(address)) { client in
                for expected in 1...2 {
                    let response = try await client.invokeObj(
                        objRequest(cls: "counters", fn: "count", partition: 3, id: .string("user-1")),
                        metadata: invocationMetadata(depth: 2)
                    )
                    #expect(response.status == .okay, "\(response.text)")
                    #expect(try response.json([String: Int].self) == ["count": expected])
                }
                let other = try await client.invokeObj(objRequest(cls: "counters", fn: "count", partition: 3, id: .numeric(1)))
                #expect(try other.json([String: Int].self) == ["count": 1])
            }
            let stored = try #require(await odgm.object("counters/3/s:user-1"))
            #expect(stored.data.entriesStr["count"]?.data == Data("2".utf8))
            #expect(stored.data.entries.isEmpty)
            #expect(await odgm.object("counters/3/n:1")?.data.entriesStr["count"]?.data == Data("1".utf8))

            let calls = await odgm.calls
            #expect(calls.map(\.method) == ["GetValue", "SetValue", "GetValue", "SetValue", "GetValue", "SetValue"])
            for call in calls.prefix(4) {
                #expect(call.cls == "counters" && call.partition == 3 && call.object == "counters/3/s:user-1")
                #expect(call.triggerDepth == "2")
                #expect(call.traceparent == sampleTraceparent)
                #expect(call.tracestate == "vendor=1")
                #expect(call.invocationID == "inv-42")
            }
            // A client call (depth 0, no trace) sends neither header.
            #expect(calls[4].triggerDepth == nil && calls[4].traceparent == nil)
        }
    }

    @Test func theGeneralClientReachesOtherClassesAndKeyKinds() async throws {
        try await withFakeODGM { odgm, address in
            var app = FunctionApp(configuration: testConfiguration(odgm: address))
            app.stateless("copy") { call in
                let target = call.objects.object(cls: "other", partition: 1, id: 42)
                let version = try await target.set(7, call.payload)
                try await target.set("7", "string key")
                return .ok(String(version))
            }
            try await withRunningApp(app) { client in
                let response = try await client.invokeFn(fnRequest(cls: "demo", fn: "copy", payload: "numeric key"),
                                                         metadata: invocationMetadata(depth: 1))
                #expect(response.status == .okay)
                #expect(response.text == "1")
            }
            let stored = try #require(await odgm.object("other/1/n:42"))
            #expect(stored.version == 2)
            #expect(stored.data.entries[7]?.data == Data("numeric key".utf8))
            #expect(stored.data.entriesStr["7"]?.data == Data("string key".utf8))
            #expect(await odgm.calls.allSatisfy { $0.triggerDepth == "1" && $0.traceparent == sampleTraceparent })
        }
    }

    /// What the "script" handler saw, step by step.
    struct ScriptResult: Codable, Equatable {
        var missingFetchIsNil = false
        var missingGetIsNil = false
        var mergedVersion: UInt64 = 0
        var mergedEntries: [String] = []
        var batchVersion: UInt64 = 0
        var fetchedA: String?
        var fetchedB: String?
        var fetchedNumeric: String?
        var afterDeleteKey: String?
        var casRejected = false
        var unknownClassError: String?
        var deleted = false
        var deletedAgain = true
    }

    @Test func handlesCoverEntriesBatchesMergeFetchAndDelete() async throws {
        try await withFakeODGM { odgm, address in
            var app = FunctionApp(configuration: testConfiguration(odgm: address))
            app.object("script") { call in
                var result = ScriptResult()
                let object = call.object
                result.missingFetchIsNil = try await object.fetch() == nil
                result.missingGetIsNil = try await object.get("a") == nil
                let merged = try await object.merge(["a": "1", "b": "2"])
                result.mergedVersion = merged.version
                result.mergedEntries = merged.entries.keys.map(\.description).sorted()
                result.batchVersion = try await object.batchSet([.numeric(5): Data("five".utf8), "a": Data("one".utf8)],
                                                                deleting: ["b"], expectedVersion: merged.version)
                guard let fetched = try await object.fetch() else { throw FunctionError.app("fetch found nothing") }
                result.fetchedA = fetched.string("a")
                result.fetchedB = fetched.string("b")
                result.fetchedNumeric = fetched.string(5)
                try await object.delete("a")
                result.afterDeleteKey = try await object.string("a")
                do {
                    try await object.batchSet(["c": "3"], expectedVersion: 1)
                } catch let error as DataServiceError where error.isVersionMismatch {
                    result.casRejected = error.errorCode == "VERSION_MISMATCH"
                }
                do {
                    _ = try await call.objects.object(cls: FakeODGM.unknownClass, partition: 0, id: 1).get("a")
                } catch let error as DataServiceError {
                    result.unknownClassError = error.errorCode
                }
                result.deleted = try await object.deleteObject()
                result.deletedAgain = try await object.deleteObject()
                return try .ok(json: result)
            }
            try await withRunningApp(app) { client in
                let response = try await client.invokeObj(objRequest(cls: "s", fn: "script", partition: 2, id: .string("obj")))
                #expect(response.status == .okay, "\(response.text)")
                let result = try response.json(ScriptResult.self)
                #expect(result == ScriptResult(
                    missingFetchIsNil: true, missingGetIsNil: true, mergedVersion: 1, mergedEntries: ["a", "b"],
                    batchVersion: 2, fetchedA: "one", fetchedB: nil, fetchedNumeric: "five", afterDeleteKey: nil,
                    casRejected: true, unknownClassError: "NO_CLASS", deleted: true, deletedAgain: false
                ))
            }
            #expect(await odgm.object("s/2/s:obj") == nil)
        }
    }

    @Test func withoutODGMServiceObjectCallsFailAsSystemErrors() async throws {
        try await withRunningApp(Self.counterApp(nil)) { client in
            let response = try await client.invokeObj(objRequest(fn: "count", id: 1))
            #expect(response.status == .systemError)
            #expect(response.text.contains("ODGM_SERVICE is not set"))
            #expect(response.text.contains("GetValue demo/0/1 key 'count'"))
        }
    }

    @Test func anUnreachableODGMIsASystemErrorNotAHang() async throws {
        // A port nothing listens on: the call must fail fast rather than wait for a deadline.
        let closed = try await withFakeODGM { _, address in address }
        try await withRunningApp(Self.counterApp(closed)) { client in
            let started = ContinuousClock.now
            let response = try await client.invokeObj(objRequest(fn: "count", id: 1))
            #expect(response.status == .systemError)
            #expect(response.text.contains("unavailable"))
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }
}
