import Foundation
import HTTPTypes
import Hummingbird
import OaaSCore
import OaaSProto

/// The HTTP side of an invocation: options from the request (data-plane spec §5.4) and the
/// response mapping of §5.3.
enum InvocationHTTP {
    static let optionHeaderPrefix = "x-oprc-opt-"
    static let optionQueryPrefix = "opt."
    static let functionHeaderPrefix = "x-oprc-h-"

    /// `accept` and `content-type` from the headers, then every `x-oprc-opt-<k>` header and every
    /// `?opt.<k>=v` parameter as option `k` (a query parameter wins over a header of the same key).
    static func options(_ request: Request) throws(OaaSError) -> [String: String] {
        var options: [String: String] = [:]
        let accept = request.headers[values: .accept]
        if !accept.isEmpty { options["accept"] = accept.joined(separator: ", ") }
        if let contentType = request.headers[.contentType] { options["content-type"] = contentType }
        for field in request.headers {
            let name = field.name.canonicalName
            guard name.hasPrefix(optionHeaderPrefix) else { continue }
            let key = String(name.dropFirst(optionHeaderPrefix.count))
            guard !key.isEmpty else { throw OaaSError(.invalidArgument, "header '\(field.name.rawName)' names no option key") }
            // Repeated header fields combine with commas, as HTTP does.
            options[key] = options[key].map { "\($0), \(field.value)" } ?? field.value
        }
        for (rawKey, value) in request.uri.queryParameters {
            guard rawKey.hasPrefix(optionQueryPrefix) else { continue }
            guard let decoded = PathIdentity.percentDecode(rawKey.dropFirst(optionQueryPrefix.count)) else {
                throw OaaSError(.invalidArgument, "query parameter '\(rawKey)' is not valid percent-encoded UTF-8")
            }
            guard !decoded.isEmpty else { throw OaaSError(.invalidArgument, "query parameter '\(rawKey)' names no option key") }
            options[decoded] = String(value)
        }
        return options
    }

    /// Status per §5.3, body = payload, Content-Type from the function or negotiated, and the
    /// `x-oprc-*` headers. A non-OKAY status without payload is the JSON error envelope.
    static func response(_ response: Oprc_InvocationResponse, wantsJSON: Bool) -> Response {
        var headers = HTTPFields()
        headers[OprcHeader.status] = response.status.name
        if !response.invocationID.isEmpty { headers[OprcHeader.invocationID] = response.invocationID }
        for (key, value) in response.headers.sorted(by: { $0.key < $1.key }) where key.lowercased() != "content-type" {
            // A header name HTTP cannot carry is dropped rather than failing the call.
            if let name = HTTPField.Name(functionHeaderPrefix + key.lowercased()) { headers[name] = value }
        }
        let status = httpStatus(response.status)
        if response.status != .okay && response.payload.isEmpty {
            return ErrorEnvelope.response(status: status, code: response.status.name,
                                          message: "function returned \(response.status.name) without a payload", headers: headers)
        }
        let functionType = response.headers.first { $0.key.lowercased() == "content-type" }?.value
        headers[.contentType] = functionType ?? (wantsJSON ? MediaType.json : MediaType.octetStream)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.payload)))
    }

    /// OKAY 200, INVALID_REQUEST 400, APP_ERROR 422, SYSTEM_ERROR (and any unknown status) 502.
    static func httpStatus(_ status: Oprc_ResponseStatus) -> HTTPResponse.Status {
        switch status {
        case .okay: .ok
        case .invalidRequest: .badRequest
        case .appError: .unprocessableContent
        case .systemError, .UNRECOGNIZED: .badGateway
        }
    }
}

extension OprcHeader {
    static let status = HTTPField.Name("x-oprc-status") ?? .via
    static let invocationID = HTTPField.Name("x-oprc-invocation-id") ?? .via
}
