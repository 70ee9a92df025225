/// Why a Prometheus query gave no answer. Every case carries enough to tell an operator what to fix; the analyzer
/// reports it in the `NfrObserved` condition (`PrometheusUnavailable`).
public enum PrometheusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `OPRC_CRM_PROM_URL` plus the API path is not a usable URL.
    case invalidURL(String)
    /// Connection refused, DNS failure, TLS problem…
    case unreachable(String)
    /// No complete answer within `OPRC_CRM_PROM_QUERY_TIMEOUT_SECS`.
    case timeout(Duration)
    /// A non-2xx answer without a Prometheus error body.
    case httpStatus(code: Int, body: String)
    /// Prometheus answered `"status": "error"` (bad query, execution failure, …).
    case api(errorType: String, message: String)
    /// The body is not the documented JSON envelope.
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid Prometheus URL '\(url)'"
        case .unreachable(let detail): "Prometheus unreachable: \(detail)"
        case .timeout(let limit): "Prometheus did not answer within \(limit)"
        case .httpStatus(let code, let body): body.isEmpty ? "Prometheus HTTP \(code)" : "Prometheus HTTP \(code): \(body)"
        case .api(let type, let message): "Prometheus \(type) error: \(message)"
        case .malformedResponse(let detail): "unreadable Prometheus response: \(detail)"
        }
    }
}
