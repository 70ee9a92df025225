import HTTPTypes
import Hummingbird

/// The error envelope on every non-2xx (spec §4.1): PM errors as they are, the router's "no route" as 404
/// NOT_FOUND, or 405 METHOD_NOT_ALLOWED with `Allow` when the path is one of ours under another method.
/// Anything unexpected is logged and answered 500 INTERNAL without details.
struct PMErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: KnownRoutes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PMError {
            if error.httpStatus >= 500 {
                context.logger.warning("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            return Reply.error(error)
        } catch let error as any HTTPResponseError {
            if error.status == .notFound, context.endpointPath == nil || context.endpointPath == "NotFound" {
                return unmatched(request)
            }
            let code: PMError.Code = switch error.status.code {
            case 404: .notFound
            case 405: .methodNotAllowed
            case 413: .payloadTooLarge
            case 415: .unsupportedMediaType
            case 400..<500: .badRequest
            default: .internal
            }
            return Reply.error(PMError(code, (error as? HTTPError)?.body ?? error.status.reasonPhrase))
        } catch {
            context.logger.error("unhandled error", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Reply.error(PMError(.internal, "internal error"))
        }
    }

    private func unmatched(_ request: Request) -> Response {
        let path = request.uri.path
        if let route = routes.match(path), !route.methods.contains(request.method) {
            let allow = route.methods.map(\.rawValue).joined(separator: ", ")
            let message = route.explanation ?? "method \(request.method.rawValue) is not allowed on \(route.template); allowed: \(allow)"
            return Reply.error(PMError(.methodNotAllowed, message), headers: [.allow: allow])
        }
        return Reply.error(PMError(.notFound, "no route for \(request.method.rawValue) \(path)"))
    }
}

/// The path templates PM serves and their methods, so an unmatched request on a known path answers 405.
struct KnownRoutes: Sendable {
    struct Route: Sendable {
        let template: String
        let segments: [Substring?]
        var methods: [HTTPRequest.Method]
        /// Why other methods are refused, when there is more to say (e.g. classes live in packages).
        var explanation: String?
    }

    private(set) var routes: [Route] = []

    mutating func add(_ template: String, _ method: HTTPRequest.Method) {
        if let index = routes.firstIndex(where: { $0.template == template }) {
            if !routes[index].methods.contains(method) { routes[index].methods.append(method) }
            return
        }
        let segments = template.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? nil : $0 }
        routes.append(Route(template: template, segments: segments, methods: [method]))
    }

    mutating func explain(_ template: String, _ text: String) {
        if let index = routes.firstIndex(where: { $0.template == template }) { routes[index].explanation = text }
    }

    func match(_ path: String) -> Route? {
        let parts = path.split(separator: "/")
        return routes.first { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { literal, part in literal.map { $0 == part } ?? true }
        }
    }
}
