import GRPCCore
import Metrics
import OaaSCore
import Synchronization

/// Counts every gRPC call and its latency as `<prefix>_requests_total{method,code}` and
/// `<prefix>_request_duration_seconds{method}` (spec §11.2: `odgm_grpc_*`, `gateway_grpc_*`).
public struct MetricsInterceptor: ServerInterceptor {
    private let prefix: String
    private let cache = MetricCache()

    public init(prefix: String) {
        self.prefix = prefix
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let method = context.descriptor.method
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            // Streaming bodies finish later; the status of the head is what is counted here.
            switch response.accepted {
            case .success: record(method: method, code: "OK", since: start)
            case .failure(let error): record(method: method, code: OaaSError.name(of: error.code), since: start)
            }
            return response
        } catch let error as RPCError {
            record(method: method, code: OaaSError.name(of: error.code), since: start)
            throw error
        } catch {
            record(method: method, code: "UNKNOWN", since: start)
            throw error
        }
    }

    private func record(method: String, code: String, since start: ContinuousClock.Instant) {
        let (counter, timer) = cache.metrics(prefix: prefix, method: method, code: code)
        counter.increment()
        timer.recordInterval(since: start)
    }
}

/// Metric objects are created once per label set: creating them per call costs a registry lookup.
final class MetricCache: Sendable {
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])

    func metrics(prefix: String, method: String, code: String) -> (Counter, Metrics.Timer) {
        let counter = counters.withLock { cache in
            let key = method + "|" + code
            if let existing = cache[key] { return existing }
            let made = Counter(label: "\(prefix)_requests_total", dimensions: [("method", method), ("code", code)])
            cache[key] = made
            return made
        }
        let timer = timers.withLock { cache in
            if let existing = cache[method] { return existing }
            let made = Metrics.Timer(label: "\(prefix)_request_duration_seconds", dimensions: [("method", method)])
            cache[method] = made
            return made
        }
        return (counter, timer)
    }
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
