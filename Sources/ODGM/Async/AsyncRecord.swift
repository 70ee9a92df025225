import Foundation
import OaaSProto
import SwiftProtobuf

/// The durable state of one async invocation (data-plane spec §5.5).
///
/// The call is kept as submitted (ids normalized), together with the context it needs to run
/// later: trigger depth and trace context. Stored in a compact, versioned binary form: a format
/// byte, fixed-width fields, then length-prefixed blobs (the call and response as protobuf).
struct AsyncRecord: Sendable, Equatable {
    enum State: UInt8, Sendable {
        case pending = 1, running = 2, done = 3

        var wire: Oaas_Invocation_AsyncState {
            switch self {
            case .pending: .pending
            case .running: .running
            case .done: .done
            }
        }
    }

    var state: State
    var call: Oaas_Invocation_SubmitRequest.OneOf_Call
    var submittedAtMs: UInt64
    var startedAtMs: UInt64 = 0
    var finishedAtMs: UInt64 = 0
    var expiresAtMs: UInt64 = 0
    /// How many times a run was started (more than one after a restart interrupted a run).
    var runs: UInt64 = 0
    var triggerDepth: UInt64 = 0
    var traceparent: String?
    var tracestate: String?
    /// Set iff `state == .done`.
    var response: Oprc_InvocationResponse?

    static let format: UInt8 = 1
    private static let fnCall: UInt8 = 1
    private static let objCall: UInt8 = 2

    var fnID: String {
        switch call {
        case .fn(let request): request.fnID
        case .obj(let request): request.fnID
        }
    }

    func encoded() throws -> [UInt8] {
        var out: [UInt8] = [Self.format, state.rawValue]
        for value in [submittedAtMs, startedAtMs, finishedAtMs, expiresAtMs, runs, triggerDepth] {
            Self.append(value, to: &out)
        }
        switch call {
        case .fn(let request):
            out.append(Self.fnCall)
            Self.append(blob: try request.serializedBytes() as [UInt8], to: &out)
        case .obj(let request):
            out.append(Self.objCall)
            Self.append(blob: try request.serializedBytes() as [UInt8], to: &out)
        }
        Self.append(blob: Array((traceparent ?? "").utf8), to: &out)
        Self.append(blob: Array((tracestate ?? "").utf8), to: &out)
        if let response {
            out.append(1)
            Self.append(blob: try response.serializedBytes() as [UInt8], to: &out)
        } else {
            out.append(0)
        }
        return out
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> AsyncRecord {
        var reader = RecordReader(Array(bytes))
        guard reader.byte() == format else { throw malformed("unknown format") }
        guard let rawState = reader.byte(), let state = State(rawValue: rawState) else { throw malformed("bad state") }
        var numbers: [UInt64] = []
        for _ in 0..<6 {
            guard let value = reader.uint64() else { throw malformed("truncated") }
            numbers.append(value)
        }
        let call: Oaas_Invocation_SubmitRequest.OneOf_Call
        switch (reader.byte(), reader.blob()) {
        case (fnCall, let blob?): call = .fn(try Oprc_InvocationRequest(serializedBytes: blob))
        case (objCall, let blob?): call = .obj(try Oprc_ObjectInvocationRequest(serializedBytes: blob))
        default: throw malformed("bad call")
        }
        guard let traceparent = reader.blob(), let tracestate = reader.blob(), let hasResponse = reader.byte() else {
            throw malformed("truncated")
        }
        var response: Oprc_InvocationResponse?
        if hasResponse == 1 {
            guard let blob = reader.blob() else { throw malformed("truncated response") }
            response = try Oprc_InvocationResponse(serializedBytes: blob)
        }
        return AsyncRecord(
            state: state, call: call,
            submittedAtMs: numbers[0], startedAtMs: numbers[1], finishedAtMs: numbers[2], expiresAtMs: numbers[3],
            runs: numbers[4], triggerDepth: numbers[5],
            traceparent: traceparent.isEmpty ? nil : String(decoding: traceparent, as: UTF8.self),
            tracestate: tracestate.isEmpty ? nil : String(decoding: tracestate, as: UTF8.self),
            response: response
        )
    }

    private static func malformed(_ why: String) -> CorruptRecord {
        CorruptRecord("async invocation record is malformed (\(why))")
    }

    private static func append(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func append(blob: [UInt8], to out: inout [UInt8]) {
        append(UInt64(blob.count), to: &out)
        out.append(contentsOf: blob)
    }
}

/// Reads the fields written by `AsyncRecord.encoded()`; every read is bounds-checked.
private struct RecordReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func byte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint64() -> UInt64? {
        guard bytes.count - offset >= 8 else { return nil }
        var value: UInt64 = 0
        for i in (0..<8).reversed() { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return value
    }

    mutating func blob() -> [UInt8]? {
        guard let length = uint64(), length <= UInt64(bytes.count - offset) else { return nil }
        let end = offset + Int(length)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}
