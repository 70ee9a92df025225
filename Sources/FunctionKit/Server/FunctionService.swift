import Foundation
import GRPCCore
import Logging
import OaaSProto

/// Serves `oprc.OprcFunction` from a ``FunctionRegistry`` (data-plane spec §5.1, §10).
///
/// Every outcome of a handler is an `InvocationResponse`, never a gRPC error, so ODGM passes it on:
/// ``FunctionError/invalid(_:)`` → INVALID_REQUEST, ``FunctionError/app(_:)`` → APP_ERROR, any
/// other error → SYSTEM_ERROR with its text. An unknown `fn_id`, or a function called through the
/// wrong RPC, answers INVALID_REQUEST naming the functions this runtime serves. The only gRPC
/// error is DEADLINE_EXCEEDED, when the caller's deadline passes before the handler finishes.
struct FunctionService: Oprc_OprcFunction.ServiceProtocol {
    let registry: FunctionRegistry
    let dataConnection: ObjectClient.Connection?
    let logger: Logger

    func invokeFn(
        request: ServerRequest<Oprc_InvocationRequest>, context: ServerContext
    ) async throws -> ServerResponse<Oprc_InvocationResponse> {
        let message = request.message
        let call = CallMetadata(metadata: request.metadata, options: message.options)
        let invocation = makeInvocation(
            cls: message.clsID, fn: message.fnID, partition: message.partitionID, payload: message.payload,
            options: message.options, metadata: request.metadata, call: call, objectID: nil
        )
        let response: FunctionResponse
        if let problem = unroutable(fn: message.fnID, rpc: "InvokeFn") {
            response = .invalid(problem)
        } else if let handler = registry.stateless[message.fnID] {
            response = try await run(invocation) { try await handler(invocation) }
        } else {
            response = .invalid("function '\(message.fnID)' is an object method: call it with InvokeObj")
        }
        return ServerResponse(message: response.proto(invocationID: call.invocationID))
    }

    func invokeObj(
        request: ServerRequest<Oprc_ObjectInvocationRequest>, context: ServerContext
    ) async throws -> ServerResponse<Oprc_InvocationResponse> {
        let message = request.message
        let call = CallMetadata(metadata: request.metadata, options: message.options)
        let objectID = Self.objectID(of: message)
        let invocation = makeInvocation(
            cls: message.clsID, fn: message.fnID, partition: message.partitionID, payload: message.payload,
            options: message.options, metadata: request.metadata, call: call, objectID: try? objectID.get()
        )
        let response: FunctionResponse
        if let problem = unroutable(fn: message.fnID, rpc: "InvokeObj") {
            response = .invalid(problem)
        } else if let handler = registry.object[message.fnID] {
            switch objectID {
            case .failure(let error):
                response = .invalid(error.message)
            case .success(let id):
                let objectCall = ObjectInvocation(
                    invocation: invocation, objectID: id,
                    object: invocation.objects.object(cls: message.clsID, partition: message.partitionID, id: id)
                )
                response = try await run(invocation) { try await handler(objectCall) }
            }
        } else {
            response = .invalid("function '\(message.fnID)' is stateless: call it with InvokeFn")
        }
        return ServerResponse(message: response.proto(invocationID: call.invocationID))
    }

    // MARK: Helpers

    /// Why `fn` cannot be dispatched at all, or nil when some handler is registered under it.
    private func unroutable(fn: String, rpc: String) -> String? {
        if fn.isEmpty { return "fn_id required" }
        if registry.stateless[fn] != nil || registry.object[fn] != nil { return nil }
        let served = registry.functionIDs.map { "'\($0)'" }.joined(separator: ", ")
        return "function '\(fn)' is not served by this runtime (\(rpc)); it serves \(served.isEmpty ? "none" : served)"
    }

    private func makeInvocation(
        cls: String, fn: String, partition: UInt32, payload: Data, options: [String: String],
        metadata: Metadata, call: CallMetadata, objectID: ObjectID?
    ) -> Invocation {
        var logger = self.logger
        logger[metadataKey: "fn"] = "\(fn)"
        logger[metadataKey: "cls"] = "\(cls)"
        logger[metadataKey: "partition"] = "\(partition)"
        if let objectID { logger[metadataKey: "object"] = "\(objectID)" }
        if let id = call.invocationID { logger[metadataKey: "invocation_id"] = "\(id)" }
        return Invocation(
            clsID: cls, fnID: fn, partitionID: partition, payload: payload, options: options,
            invocationID: call.invocationID, triggerDepth: call.triggerDepth,
            traceparent: call.traceparent, tracestate: call.tracestate, deadline: call.deadline,
            metadata: metadata, logger: logger,
            objects: ObjectClient(connection: dataConnection, context: call)
        )
    }

    /// Runs a handler within the call's deadline and turns what it throws into a response.
    private func run(
        _ invocation: Invocation, _ handler: @escaping @Sendable () async throws -> FunctionResponse
    ) async throws -> FunctionResponse {
        let logger = invocation.logger
        logger.debug("invoked", metadata: ["trigger_depth": "\(invocation.triggerDepth)"])
        do {
            return try await withDeadline(invocation.deadline, handler)
        } catch let error as FunctionError {
            switch error {
            case .invalid(let message):
                return .invalid(message)
            case .app(let message):
                return .appError(message)
            }
        } catch {
            // Whatever failed once the caller's deadline has passed, the caller sees a deadline.
            if let deadline = invocation.deadline, ContinuousClock.now >= deadline {
                logger.warning("deadline exceeded before the function finished")
                throw RPCError(
                    code: .deadlineExceeded,
                    message: "function '\(invocation.fnID)' did not finish before the invocation deadline"
                )
            }
            logger.error("function failed: \(error)")
            return .systemError("function '\(invocation.fnID)' failed: \(error)")
        }
    }

    /// Exactly one of `object_id` (non-zero) or `object_id_str` (data-plane spec §1.1). ODGM
    /// validates first; this only keeps a direct caller's mistake from reaching a handler.
    static func objectID(of request: Oprc_ObjectInvocationRequest) -> Result<ObjectID, InvalidObjectID> {
        if request.hasObjectIDStr {
            guard request.objectID == 0 else {
                return .failure(InvalidObjectID(message: "exactly one of object_id or object_id_str must be set"))
            }
            guard !request.objectIDStr.isEmpty else {
                return .failure(InvalidObjectID(message: "object_id_str must not be empty"))
            }
            return .success(.string(request.objectIDStr))
        }
        guard request.objectID != 0 else {
            return .failure(InvalidObjectID(message: "object_id must be non-zero (0 means unset)"))
        }
        return .success(.numeric(request.objectID))
    }

    struct InvalidObjectID: Error {
        let message: String
    }
}
