import Foundation
import OaaSCore
import OaaSProto
import Storage
import SwiftProtobuf

/// One pending `(change, target)` invocation of spec §6.2, as kept in the outbox.
///
/// The call is stored complete (target, options with `oaas-invocation-id`, `oaas-trigger-depth`
/// and trace context), so a retry or a restart sends exactly the same call. Its payload is kept as
/// a protobuf `TriggerPayload` and turned into JSON only when sent, which keeps the encoding off the
/// writer thread.
struct TriggerDelivery: Sendable, Equatable {
    enum Call: Sendable, Equatable {
        case fn(Oprc_InvocationRequest)
        case obj(Oprc_ObjectInvocationRequest)
    }

    var call: Call
    var format: TriggerPayloadFormat

    /// The delivery for `target`: InvokeObj when the target names an object, else InvokeFn. The
    /// invocation id is chosen here, once, and stays with the record through retries and restarts.
    init(target: Oprc_TriggerTarget, payload: Oprc_TriggerPayload, format: TriggerPayloadFormat,
         depth: Int, traceparent: String?, tracestate: String?) throws {
        var options = target.reqOptions
        options["content-type"] = format.contentType
        options[MetadataKeys.invocationID] = InvocationIDs.generate()
        options[MetadataKeys.triggerDepth] = String(depth)
        if let traceparent { options[MetadataKeys.traceparent] = traceparent }
        if let tracestate { options[MetadataKeys.tracestate] = tracestate }
        let bytes = try payload.serializedData()
        if target.hasObjectID || target.hasObjectIDStr {
            var request = Oprc_ObjectInvocationRequest()
            request.clsID = target.clsID
            request.partitionID = target.partitionID
            request.fnID = target.fnID
            if target.hasObjectIDStr { request.objectIDStr = target.objectIDStr } else { request.objectID = target.objectID }
            request.options = options
            request.payload = bytes
            call = .obj(request)
        } else {
            var request = Oprc_InvocationRequest()
            request.clsID = target.clsID
            request.partitionID = target.partitionID
            request.fnID = target.fnID
            request.options = options
            request.payload = bytes
            call = .fn(request)
        }
        self.format = format
    }

    init(call: Call, format: TriggerPayloadFormat) {
        self.call = call
        self.format = format
    }

    var options: [String: String] {
        switch call {
        case .fn(let request): request.options
        case .obj(let request): request.options
        }
    }

    var invocationID: String { options[MetadataKeys.invocationID] ?? "" }
    var depth: Int { options[MetadataKeys.triggerDepth].flatMap { Int($0) } ?? 0 }
    var fnID: String {
        switch call {
        case .fn(let request): request.fnID
        case .obj(let request): request.fnID
        }
    }

    /// The call as sent: the payload in the collection's format.
    func wireCall() throws -> Call {
        guard format == .json else { return call }
        switch call {
        case .fn(var request):
            request.payload = try format.encode(try Oprc_TriggerPayload(serializedBytes: request.payload))
            return .fn(request)
        case .obj(var request):
            request.payload = try format.encode(try Oprc_TriggerPayload(serializedBytes: request.payload))
            return .obj(request)
        }
    }

    /// The context the call is made with: its id, depth and trace, and the attempt's deadline.
    func context(deadline: ContinuousClock.Instant) -> CallContext {
        let options = self.options
        return CallContext(triggerDepth: depth, traceparent: options[MetadataKeys.traceparent],
                           tracestate: options[MetadataKeys.tracestate], deadline: deadline, invocationID: invocationID)
    }

    // MARK: Record

    private static let recordFormat: UInt8 = 1
    private static let fnKind: UInt8 = 1
    private static let objKind: UInt8 = 2

    /// `format(1) · kind(1: fn, 2: obj) · payload format(1) · serialized request`.
    func encoded() throws -> [UInt8] {
        var writer = ValueWriter()
        writer.append(Self.recordFormat)
        switch call {
        case .fn(let request):
            writer.append(Self.fnKind)
            writer.append(format.rawValue)
            writer.append(bytes: try request.serializedBytes() as [UInt8])
        case .obj(let request):
            writer.append(Self.objKind)
            writer.append(format.rawValue)
            writer.append(bytes: try request.serializedBytes() as [UInt8])
        }
        return writer.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> TriggerDelivery {
        var reader = ValueReader(bytes)
        guard reader.readUInt8() == recordFormat, let kind = reader.readUInt8(),
              let rawFormat = reader.readUInt8(), let format = TriggerPayloadFormat(rawValue: rawFormat) else {
            throw CorruptRecord("trigger outbox record is malformed")
        }
        let rest = reader.readRest()
        switch kind {
        case fnKind: return TriggerDelivery(call: .fn(try Oprc_InvocationRequest(serializedBytes: rest)), format: format)
        case objKind: return TriggerDelivery(call: .obj(try Oprc_ObjectInvocationRequest(serializedBytes: rest)), format: format)
        default: throw CorruptRecord("trigger outbox record has unknown kind \(kind)")
        }
    }
}
