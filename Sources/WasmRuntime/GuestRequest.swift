import Foundation
import ODGM
import OaaSCore
import OaaSProto

/// What a guest can learn about its call, and the context its host data calls carry.
struct GuestRequest: Sendable {
    enum Object: Sendable, Equatable {
        case numeric(UInt64)
        case string(String)
    }

    let cls: String
    let fn: String
    let partition: UInt32
    let payload: Data
    let options: [String: String]
    /// The invoked object; nil for a stateless call (InvokeFn).
    let object: Object?
    let invocationID: String
    let deadline: ContinuousClock.Instant
    /// Trigger depth, trace context, invocation id and deadline for host data calls (spec §6.3, §9.6).
    let context: CallContext

    init(_ call: RuntimeCall) {
        switch call.request {
        case .fn(let request):
            cls = request.clsID
            fn = request.fnID
            partition = request.partitionID
            payload = request.payload
            options = request.options
            object = nil
        case .obj(let request):
            cls = request.clsID
            fn = request.fnID
            partition = request.partitionID
            payload = request.payload
            options = request.options
            object = request.hasObjectIDStr ? .string(request.objectIDStr) : .numeric(request.objectID)
        }
        invocationID = call.invocationID
        deadline = call.deadline
        context = CallContext(triggerDepth: call.triggerDepth, traceparent: call.traceparent, tracestate: call.tracestate,
                              deadline: call.deadline, invocationID: call.invocationID)
    }
}
