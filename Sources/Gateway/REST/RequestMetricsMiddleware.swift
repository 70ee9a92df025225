import Hummingbird
import Metrics
import Synchronization

/// REST request metrics of spec §11.2: `http_requests_total{method,route,status}`,
/// `http_request_duration_seconds{method,route}` and `http_active_requests`. The route label is
/// the matched template (`context.endpointPath`), never the raw path, to keep cardinality bounded.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.active.increment()
        defer { metrics.active.decrement() }
        let status: Int
        do {
            let response = try await next(request, context)
            status = response.status.code
            metrics.record(method: request.method.rawValue, route: context.endpointPath, status: status, elapsed: ContinuousClock.now - start)
            return response
        } catch {
            // Only reached for errors nothing below turned into a response.
            status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.record(method: request.method.rawValue, route: context.endpointPath, status: status, elapsed: ContinuousClock.now - start)
            throw error
        }
    }
}

/// Metric objects of the REST side, created once per label set and then reused.
final class HTTPMetrics: Sendable {
    private struct CounterKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private struct TimerKey: Hashable {
        let method: String
        let route: String
    }

    let active: Meter
    private let factory: any MetricsFactory
    private let counters = Mutex<[CounterKey: Counter]>([:])
    private let timers = Mutex<[TimerKey: Metrics.Timer]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
        self.active = Meter(label: "http_active_requests", dimensions: [], factory: factory)
    }

    func record(method: String, route: String?, status: Int, elapsed: Duration) {
        // Unmatched requests share one label instead of exposing raw paths.
        let route = route ?? "NotFound"
        let counterKey = CounterKey(method: method, route: route, status: status)
        let counter = counters.withLock { cache in
            if let counter = cache[counterKey] { return counter }
            let counter = Counter(label: "http_requests_total", dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory)
            cache[counterKey] = counter
            return counter
        }
        let timerKey = TimerKey(method: method, route: route)
        let timer = timers.withLock { cache in
            if let timer = cache[timerKey] { return timer }
            let timer = Metrics.Timer(label: "http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: factory)
            cache[timerKey] = timer
            return timer
        }
        counter.increment()
        let (seconds, attoseconds) = elapsed.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
