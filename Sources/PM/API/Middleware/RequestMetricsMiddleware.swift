import Hummingbird

/// `pm_http_requests_total{route,code}` and `pm_http_request_seconds{route}`; the route is the matched template,
/// so raw paths never become labels.
struct PMRequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: PMMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.httpRequest(route: context.endpointPath ?? "unmatched", code: response.status.code, elapsed: .now - start)
            return response
        } catch {
            metrics.httpRequest(route: context.endpointPath ?? "unmatched", code: (error as? any HTTPResponseError)?.status.code ?? 500, elapsed: .now - start)
            throw error
        }
    }
}
