import Foundation
import Hummingbird
import OaaSCore
import OaaSProto

extension GatewayRoutes {
    /// The invocation routes under `prefix` (`B`, or `O` when `target` names the object), spec §8.2.
    func invocationRoutes(prefix: String, target: ObjectTarget?) -> [Route] {
        [
            Route(path: "\(prefix)/invokes/{fn}", method: .post) { try await invoke($0, $1, target) },
            Route(path: "\(prefix)/invokes/{fn}/async", method: .post) { try await submitAsync($0, $1, target) },
            Route(path: "\(prefix)/invokes/{fn}/async/{inv}", method: .put) { try await submitAsync($0, $1, target) },
            Route(path: "\(prefix)/results/{fn}/async/{inv}", method: .get) { try await asyncResult($0, $1, target) },
        ]
    }

    /// POST `…/invokes/{fn}`: the raw body is the payload; the answer follows spec §5.3.
    func invoke(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget?) async throws -> Response {
        let address = try invocationAddress(context, target)
        let call = try callContext(request)
        let options = try InvocationHTTP.options(request)
        guard let invoker else {
            throw OaaSError(.unavailable, "function invocation is unavailable: this gateway has no ODGM to call")
        }
        let payload = try await collectBody(request)
        let response: Oprc_InvocationResponse = if address.object != nil {
            try await invoker.invokeObj(address.objectRequest(payload: payload, options: options), context: call)
        } else {
            try await invoker.invokeFn(address.functionRequest(payload: payload, options: options), context: call)
        }
        return InvocationHTTP.response(response, wantsJSON: MediaType.wantsJSON(request.headers))
    }

    func invocationAddress(_ context: BasicRequestContext, _ target: ObjectTarget?) throws(OaaSError) -> InvocationAddress {
        if let target {
            let object = try objectAddress(context, target)
            let fn = try Self.segment(context.parameters.get("fn"), name: "function")
            return InvocationAddress(cls: object.cls, partition: object.partition, fn: fn, object: object)
        }
        let cls = try PathIdentity.cls(context.parameters.get("cls"))
        let partition = try PathIdentity.partition(context.parameters.get("pid"))
        let fn = try Self.segment(context.parameters.get("fn"), name: "function")
        return InvocationAddress(cls: cls, partition: partition, fn: fn, object: nil)
    }

    /// A percent-decoded, non-empty path segment.
    static func segment(_ raw: String?, name: String) throws(OaaSError) -> String {
        guard let raw, let decoded = PathIdentity.percentDecode(raw) else {
            throw OaaSError(.invalidArgument, "\(name) segment '\(raw ?? "")' is not valid percent-encoded UTF-8")
        }
        guard !decoded.isEmpty else { throw OaaSError(.invalidArgument, "\(name) segment must not be empty") }
        return decoded
    }
}

/// What an invocation path names: class, partition, function and, for object methods, the object.
struct InvocationAddress: Sendable {
    var cls: String
    var partition: UInt32
    var fn: String
    var object: ObjectAddress?

    func functionRequest(payload: Data, options: [String: String]) -> Oprc_InvocationRequest {
        var request = Oprc_InvocationRequest()
        request.clsID = cls
        request.partitionID = partition
        request.fnID = fn
        request.payload = payload
        request.options = options
        return request
    }

    func objectRequest(payload: Data, options: [String: String]) -> Oprc_ObjectInvocationRequest {
        var request = Oprc_ObjectInvocationRequest()
        request.clsID = cls
        request.partitionID = partition
        request.fnID = fn
        request.objectID = object?.numericID ?? 0
        if let stringID = object?.stringID { request.objectIDStr = stringID }
        request.payload = payload
        request.options = options
        return request
    }
}
