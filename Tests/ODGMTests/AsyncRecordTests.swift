import Foundation
import OaaSProto
@testable import ODGM
import Testing

/// The stored form of async calls and the keys that index them.
@Suite struct AsyncRecordTests {
    @Test func recordsRoundTrip() throws {
        var call = Oprc_ObjectInvocationRequest()
        call.clsID = "svc"
        call.fnID = "echo"
        call.objectIDStr = "user-1"
        call.payload = Data([0, 1, 2, 255])
        call.options = ["k": "v"]
        var record = AsyncRecord(state: .done, call: .obj(call), submittedAtMs: 1, startedAtMs: 2, finishedAtMs: 3,
                                 expiresAtMs: 4, runs: 2, triggerDepth: 5, traceparent: "00-abc-def-01", tracestate: nil)
        var response = Oprc_InvocationResponse()
        response.payload = Data("ok".utf8)
        response.headers = ["content-type": "text/plain"]
        response.invocationID = "id"
        record.response = response
        let bytes = try record.encoded()
        #expect(try bytes.withUnsafeBytes { try AsyncRecord.decode($0) } == record)

        let pending = AsyncRecord(state: .pending, call: .fn(Oprc_InvocationRequest()), submittedAtMs: 9)
        #expect(try pending.encoded().withUnsafeBytes { try AsyncRecord.decode($0) } == pending)
    }

    @Test func damagedRecordsAreRejected() throws {
        let bytes = try AsyncRecord(state: .pending, call: .fn(Oprc_InvocationRequest()), submittedAtMs: 9).encoded()
        for cut in [0, 1, 10, bytes.count - 1] {
            #expect(throws: (any Error).self) { try Array(bytes[..<cut]).withUnsafeBytes { try AsyncRecord.decode($0) } }
        }
        var future = bytes
        future[0] = 99
        #expect(throws: (any Error).self) { try future.withUnsafeBytes { try AsyncRecord.decode($0) } }
    }

    @Test func indexKeysDecodeAndSortByTime() {
        let key = AsyncCallKey(collection: "a.b", partition: 70_000, invocationID: "x_Y-1")
        let early = AsyncKeys.queue(key, submittedAtMs: 5)
        let late = AsyncKeys.queue(AsyncCallKey(collection: "a", partition: 0, invocationID: "a"), submittedAtMs: 6)
        #expect(early.lexicographicallyPrecedes(late))
        let decoded = early.withUnsafeBytes { AsyncKeys.decodeIndex($0) }
        #expect(decoded?.key == key)
        #expect(decoded?.time == 5)
        #expect(decoded?.tag == AsyncKeys.queueTag)
        #expect(AsyncKeys.expiry(key, expiresAtMs: 1).first == AsyncKeys.expiryTag)
    }
}
