import Foundation
import Logging
import OaaSCore
import OaaSProto

/// The function triggers of spec §6.1, as ODGM's ``InvocationObserver``: after an InvokeObj of
/// `fn` on an object whose config has `func_trigger[fn]`, the `on_complete` targets (OKAY, with the
/// response payload) or the `on_error` targets (any other status or failure, with the request
/// payload and `context["error"]`) go to the object's outbox at depth d+1. InvokeFn fires none.
///
/// Only objects of shards hosted on this node are seen; an object without function triggers costs
/// one read.
public struct FunctionTriggers: InvocationObserver {
    private let node: ODGMNode
    private let logger: Logger

    public init(node: ODGMNode, logger: Logger) {
        self.node = node
        self.logger = logger
    }

    public func objectInvocationFinished(
        _ request: Oprc_ObjectInvocationRequest,
        result: Result<Oprc_InvocationResponse, OaaSError>,
        context: CallContext
    ) async {
        guard node.config.eventsEnabled,
              let collection = node.collection(named: request.clsID),
              Int(request.partitionID) < collection.shards.count,
              let shard = collection.shards[Int(request.partitionID)] as? LocalShard else { return }
        let id: ObjectID = request.hasObjectIDStr ? .string(request.objectIDStr) : .numeric(request.objectID)
        let outcome: FunctionOutcome
        switch result {
        case .success(let response) where response.status == .okay:
            outcome = .completed(response.payload)
        case .success(let response):
            let text = String(decoding: response.payload, as: UTF8.self)
            outcome = .failed(request: request.payload, error: text.isEmpty ? response.status.name : "\(response.status.name): \(text)")
        case .failure(let error):
            outcome = .failed(request: request.payload, error: error.description)
        }
        let invocationID = request.options[MetadataKeys.invocationID] ?? context.invocationID ?? ""
        do {
            try await shard.events.functionFinished(id: id, fn: request.fnID, outcome: outcome, context: context,
                                                    invocationID: invocationID)
        } catch {
            logger.error("function triggers could not be enqueued", metadata: [
                "cls": "\(request.clsID)", "partition": "\(request.partitionID)", "object": "\(id)",
                "fn": "\(request.fnID)", "invocation_id": "\(invocationID)", "error": "\(error)",
            ])
        }
    }
}
