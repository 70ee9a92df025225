import HTTPTypes
import Hummingbird

/// CORS for the origins of `PM_CORS_ORIGINS` (spec §4.1; `*` = any). Preflights are answered here; other requests
/// get the allow-origin header when their origin is allowed.
struct PMCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: [String]

    private static var exposed: String { "ETag, Location, X-Total-Count, X-Correlation-ID, X-Partial-Envs" }
    private static var allowedHeaders: String { "Accept, Content-Type, If-Match, If-None-Match, X-Correlation-ID, X-Request-ID, traceparent" }
    private static var methods: String { "GET, POST, PUT, DELETE, OPTIONS" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = allowOrigin(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var headers: HTTPFields = [.vary: "Origin"]
            if let allowed {
                headers[.accessControlAllowOrigin] = allowed
                headers[.accessControlAllowMethods] = Self.methods
                headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? Self.allowedHeaders
                headers[.accessControlMaxAge] = "600"
            }
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        if let allowed {
            response.headers[.accessControlAllowOrigin] = allowed
            response.headers[.accessControlExposeHeaders] = Self.exposed
            if allowed != "*" { response.headers[.vary] = "Origin" }
        }
        return response
    }

    private func allowOrigin(_ origin: String) -> String? {
        if origins.contains("*") { return "*" }
        return origins.contains(origin) ? origin : nil
    }
}
