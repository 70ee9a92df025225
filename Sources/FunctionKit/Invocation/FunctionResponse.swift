import Foundation
import OaaSProto

/// What a handler answers: a status, an optional payload (the HTTP body at the gateway) and
/// headers (`content-type` becomes the HTTP Content-Type; data-plane spec §5.3).
public struct FunctionResponse: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        case ok
        case invalidRequest
        case appError
        case systemError
    }

    public var status: Status
    public var payload: Data?
    public var headers: [String: String]

    public init(status: Status = .ok, payload: Data? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.payload = payload
        self.headers = headers
    }

    /// The content type of `payload`, if the function named one.
    public var contentType: String? {
        get { headers["content-type"] }
        set { headers["content-type"] = newValue }
    }

    /// A copy with one more response header (names are lowercased, as on the wire).
    public func header(_ name: String, _ value: String) -> FunctionResponse {
        var copy = self
        copy.headers[name.lowercased()] = value
        return copy
    }
}

extension FunctionResponse {
    public static let textContentType = "text/plain; charset=utf-8"
    public static let jsonContentType = "application/json"

    /// OKAY without a payload.
    public static var ok: FunctionResponse { FunctionResponse() }

    /// OKAY with raw bytes; the gateway falls back to its own Content-Type when `contentType` is nil.
    public static func ok(_ payload: Data, contentType: String? = nil) -> FunctionResponse {
        FunctionResponse(status: .ok, payload: payload, headers: contentType.map { ["content-type": $0] } ?? [:])
    }

    /// OKAY with UTF-8 text.
    public static func ok(_ text: String, contentType: String? = textContentType) -> FunctionResponse {
        ok(Data(text.utf8), contentType: contentType)
    }

    /// OKAY with `value` encoded as JSON (`application/json`).
    public static func ok(json value: some Encodable, encoder: JSONEncoder = JSONEncoder()) throws -> FunctionResponse {
        ok(try encoder.encode(value), contentType: jsonContentType)
    }

    /// INVALID_REQUEST: the caller's input was bad (HTTP 400).
    public static func invalid(_ message: String) -> FunctionResponse {
        failure(.invalidRequest, message)
    }

    /// APP_ERROR: the function ran and reports a domain error (HTTP 422).
    public static func appError(_ message: String) -> FunctionResponse {
        failure(.appError, message)
    }

    /// SYSTEM_ERROR: the function could not do its job (HTTP 502; callers may retry).
    public static func systemError(_ message: String) -> FunctionResponse {
        failure(.systemError, message)
    }

    private static func failure(_ status: Status, _ message: String) -> FunctionResponse {
        FunctionResponse(status: status, payload: Data(message.utf8), headers: ["content-type": textContentType])
    }
}

extension FunctionResponse {
    /// The wire form; `invocationID` is echoed so callers can correlate without ODGM filling it in.
    func proto(invocationID: String?) -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        switch status {
        case .ok: response.status = .okay
        case .invalidRequest: response.status = .invalidRequest
        case .appError: response.status = .appError
        case .systemError: response.status = .systemError
        }
        if let payload { response.payload = payload }
        response.headers = headers
        if let invocationID { response.invocationID = invocationID }
        return response
    }
}
