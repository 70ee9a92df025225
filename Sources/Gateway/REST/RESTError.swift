import Foundation
import HTTPTypes
import Hummingbird
import OaaSCore

/// The JSON error envelope of spec §8.4: `{"error":{"code":"<CODE>","message":"<text>"}}`.
enum ErrorEnvelope {
    private struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    static func response(_ error: OaaSError, headers extra: HTTPFields = [:]) -> Response {
        response(status: HTTPResponse.Status(code: error.httpStatus), code: error.code.rawValue, message: error.message, headers: extra)
    }

    static func response(status: HTTPResponse.Status, code: String, message: String, headers extra: HTTPFields = [:]) -> Response {
        let data = (try? JSONCoding.encoder.encode(Body(error: .init(code: code, message: message)))) ?? Data()
        var headers = extra
        headers[.contentType] = MediaType.json
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error under it into the JSON envelope: OaaSErrors as they are, the router's "no route"
/// into 404 NOT_FOUND, or 405 METHOD_NOT_ALLOWED when the path is one of ours under another method.
struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    let knownRoutes: KnownRoutes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as OaaSError {
            if error.httpStatus >= 500 {
                context.logger.warning("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            return ErrorEnvelope.response(error)
        } catch let error as any HTTPResponseError {
            return httpErrorResponse(error, request: request, context: context)
        } catch {
            // Internal details go to the log, not to the client.
            context.logger.error("unhandled error", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return ErrorEnvelope.response(OaaSError(.internal, "internal error"))
        }
    }

    private func httpErrorResponse(_ error: any HTTPResponseError, request: Request, context: Context) -> Response {
        let status = error.status
        // The router's fallback responder marks unmatched requests with this endpoint path.
        if status == .notFound, context.endpointPath == "NotFound" {
            let path = request.uri.path
            if let route = knownRoutes.match(path) {
                context.coreContext.endpointPath.value = route.template
                let allow = route.methods.map(\.rawValue).joined(separator: ", ")
                var headers = HTTPFields()
                headers[.allow] = allow
                return ErrorEnvelope.response(
                    status: .methodNotAllowed, code: OaaSError.Code.methodNotAllowed.rawValue,
                    message: "method \(request.method.rawValue) not allowed on \(route.template); allowed: \(allow)",
                    headers: headers
                )
            }
            return ErrorEnvelope.response(
                status: .notFound, code: OaaSError.Code.notFound.rawValue,
                message: "no route for \(request.method.rawValue) \(path)"
            )
        }
        let message = (error as? HTTPError)?.body ?? status.reasonPhrase
        return ErrorEnvelope.response(status: status, code: Self.code(for: status), message: message)
    }

    /// The envelope code of an HTTP status raised outside our handlers (by the framework or by
    /// routes others registered on the same router).
    static func code(for status: HTTPResponse.Status) -> String {
        let code: OaaSError.Code = switch status.code {
        case 400: .invalidArgument
        case 401: .unauthenticated
        case 403: .permissionDenied
        case 404: .notFound
        case 405: .methodNotAllowed
        case 409: .alreadyExists
        case 413: .payloadTooLarge
        case 415: .unsupportedMediaType
        case 429: .resourceExhausted
        case 501: .unimplemented
        case 503: .unavailable
        case 504: .deadlineExceeded
        default: .internal
        }
        return code.rawValue
    }
}

enum JSONCoding {
    /// Sorted keys keep bodies byte-stable; slashes stay unescaped so paths read naturally.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
