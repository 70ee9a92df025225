import Foundation
import GRPCCore
import Logging

/// One call of a stateless function (`InvokeFn`), as its handler sees it (data-plane spec §10).
public struct Invocation: Sendable {
    /// The class the function belongs to (`cls_id`).
    public let clsID: String
    /// The function (`fn_id`).
    public let fnID: String
    /// The partition that executes the call.
    public let partitionID: UInt32
    /// The raw argument, never parsed by the platform.
    public let payload: Data
    /// Request options (data-plane spec §5.4): `accept`, `content-type`, user options...
    public let options: [String: String]
    /// `oaas-invocation-id`: stable across retries, so side effects can be deduplicated by it.
    public let invocationID: String?
    /// `oaas-trigger-depth`: 0 for a client call, d+1 for a call fired by a trigger at depth d.
    public let triggerDepth: Int
    /// W3C trace context of the call.
    public let traceparent: String?
    public let tracestate: String?
    /// When the caller stops waiting; nil when it set no deadline.
    public let deadline: ContinuousClock.Instant?
    /// The request's gRPC metadata as received.
    public let metadata: Metadata
    /// A logger tagged with the function, class and invocation id.
    public let logger: Logger
    /// Object state of any class, with this call's context propagated.
    public let objects: ObjectClient

    /// The payload decoded as UTF-8 (invalid sequences become U+FFFD).
    public var payloadText: String { String(decoding: payload, as: UTF8.self) }

    /// Time left before ``deadline``; nil when there is none.
    public var remainingTime: Duration? { objects.remainingTime }

    /// The payload decoded as JSON. A payload that does not decode throws
    /// ``FunctionError/invalid(_:)``, which answers INVALID_REQUEST.
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        do {
            return try decoder.decode(type, from: payload)
        } catch {
            throw FunctionError.invalid("payload is not valid JSON for \(type): \(Self.describe(error))")
        }
    }

    /// A short, readable reason for a JSON decoding failure.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        switch error {
        case .dataCorrupted(let context):
            return context.debugDescription
        case .keyNotFound(let key, _):
            return "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "field '\(field)': \(context.debugDescription)"
        @unknown default:
            return String(describing: error)
        }
    }
}

/// One call of an object method (`InvokeObj`): an ``Invocation`` plus the target object.
/// Every property of ``Invocation`` reads directly (`call.payload`, `call.options`...).
@dynamicMemberLookup
public struct ObjectInvocation: Sendable {
    public let invocation: Invocation
    /// The object the method was invoked on; it need not exist yet.
    public let objectID: ObjectID
    /// The invoked object's state, scoped to `(cls, partition, id)`.
    public let object: ObjectHandle

    public subscript<Value>(dynamicMember keyPath: KeyPath<Invocation, Value>) -> Value {
        invocation[keyPath: keyPath]
    }

    /// See ``Invocation/decode(_:decoder:)``.
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try invocation.decode(type, decoder: decoder)
    }
}
