import Foundation
import HTTPTypes
import Hummingbird
import OaaSCore
import OaaSProto

extension GatewayRoutes {
    /// POST `…/invokes/{fn}/async` and PUT `…/invokes/{fn}/async/{inv}` (spec §8.2): Submit, then
    /// 202 `{"invocation_id","result_url"}` with `Location`. A PUT is idempotent per id.
    func submitAsync(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget?) async throws -> Response {
        let address = try invocationAddress(context, target)
        let chosenID = try context.parameters.get("inv").map { raw throws(OaaSError) in try Self.segment(raw, name: "invocation id") }
        let call = try callContext(request)
        let options = try InvocationHTTP.options(request)
        let invoker = try requireAsyncInvoker()
        let payload = try await collectBody(request)
        var submit = Oaas_Invocation_SubmitRequest()
        if address.object != nil {
            submit.obj = address.objectRequest(payload: payload, options: options)
        } else {
            submit.fn = address.functionRequest(payload: payload, options: options)
        }
        if let chosenID { submit.invocationID = chosenID }
        let response = try await invoker.submit(submit, context: call)
        let resultURL = resultPath(address, invocationID: response.invocationID)
        var headers = HTTPFields()
        headers[.location] = resultURL
        headers[.contentType] = MediaType.json
        let body = try Self.encodeJSON(Accepted(invocationID: response.invocationID, resultURL: resultURL))
        return Response(status: .accepted, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// GET `…/results/{fn}/async/{inv}`: DONE answers like a sync call (§5.3), PENDING and RUNNING
    /// answer 202 `{"state":…}`, an unknown id 404 `NO_INVOCATION`.
    func asyncResult(_ request: Request, _ context: BasicRequestContext, _ target: ObjectTarget?) async throws -> Response {
        let address = try invocationAddress(context, target)
        let invocationID = try Self.segment(context.parameters.get("inv"), name: "invocation id")
        let call = try callContext(request)
        let invoker = try requireAsyncInvoker()
        var query = Oaas_Invocation_GetResultRequest()
        query.clsID = address.cls
        query.partitionID = address.partition
        query.fnID = address.fn
        query.invocationID = invocationID
        if let object = address.object {
            query.objectID = object.numericID
            if let stringID = object.stringID { query.objectIDStr = stringID }
        }
        let result: Oaas_Invocation_GetResultResponse
        do {
            result = try await invoker.getResult(query, context: call)
        } catch let error as OaaSError where error.code == .noObject || error.code == .notFound {
            // A peer that sends no REST code: NOT_FOUND here means the invocation.
            throw OaaSError(.noInvocation, error.message)
        }
        guard result.state == .done else {
            let body = try Self.encodeJSON(Pending(state: result.state.name))
            return Response(status: .accepted, headers: [.contentType: MediaType.json], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        var response = result.response
        if response.invocationID.isEmpty { response.invocationID = invocationID }
        return InvocationHTTP.response(response, wantsJSON: MediaType.wantsJSON(request.headers))
    }

    private func requireAsyncInvoker() throws(OaaSError) -> GatewayAsyncInvoker {
        guard let asyncInvoker else {
            throw OaaSError(.unavailable, "asynchronous invocation is unavailable: this gateway has no AsyncInvocation upstream")
        }
        return asyncInvoker
    }

    /// The GET path of the result; a string id is shown normalized under `objects-str`.
    func resultPath(_ address: InvocationAddress, invocationID: String) -> String {
        var path = "/api/class/\(Self.escape(address.cls))/\(address.partition)"
        if let object = address.object {
            if let stringID = object.stringID {
                let rules = IdentityRules(maxStringIdLength: config.maxStringIdLength)
                let shown = (try? rules.normalize(stringID)) ?? stringID
                path += "/objects-str/\(Self.escape(shown))"
            } else {
                path += "/objects/\(object.numericID)"
            }
        }
        return path + "/results/\(Self.escape(address.fn))/async/\(Self.escape(invocationID))"
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: unreserved) ?? segment
    }

    private static func encodeJSON(_ value: some Encodable) throws(OaaSError) -> Data {
        do {
            return try JSONCoding.encoder.encode(value)
        } catch {
            throw OaaSError(.internal, "could not encode the response: \(error)")
        }
    }

    private struct Accepted: Encodable {
        let invocationID: String
        let resultURL: String

        enum CodingKeys: String, CodingKey {
            case invocationID = "invocation_id"
            case resultURL = "result_url"
        }
    }

    private struct Pending: Encodable {
        let state: String
    }
}
