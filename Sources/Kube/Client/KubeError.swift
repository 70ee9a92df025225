/// The `Status` object the API server returns with a failure (and inside a watch `ERROR` event).
public struct KubeStatus: Sendable, Hashable, Codable {
    public struct Cause: Sendable, Hashable, Codable {
        public var reason: String?
        public var message: String?
        public var field: String?

        public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public struct Details: Sendable, Hashable, Codable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var uid: String?
        public var causes: [Cause]?
    }

    public var status: String?
    public var message: String?
    /// Machine-readable reason: `NotFound`, `AlreadyExists`, `Conflict`, `Expired`, `Invalid`...
    public var reason: String?
    public var code: Int?
    public var details: Details?

    public init(status: String? = "Failure", message: String? = nil, reason: String? = nil, code: Int? = nil) {
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
        self.details = nil
    }
}

/// Every failure of the `Kube` module. API failures carry the server's `Status`.
public enum KubeError: Error, Sendable, CustomStringConvertible {
    /// 400
    case badRequest(KubeStatus)
    /// 401
    case unauthorized(KubeStatus)
    /// 403
    case forbidden(KubeStatus)
    /// 404
    case notFound(KubeStatus)
    /// 409: stale `resourceVersion`, `AlreadyExists`, or a server-side apply field conflict.
    case conflict(KubeStatus)
    /// 410: the requested `resourceVersion` is older than the server keeps; relist.
    case gone(KubeStatus)
    /// 422: validation failed.
    case invalid(KubeStatus)
    /// 5xx (including 504 timeouts reported by the server).
    case server(code: Int, KubeStatus)
    /// Any other non-success HTTP status.
    case unexpected(code: Int, KubeStatus)
    /// The request did not get an HTTP answer (connection refused, TLS, per-call timeout).
    case transport(String)
    /// The answer was not the JSON we expected.
    case decoding(String)
    /// Kubeconfig or in-cluster configuration is missing or unusable.
    case configuration(String)

    /// Maps an HTTP status and the decoded `Status` to the typed case.
    public static func fromHTTP(code: Int, status: KubeStatus) -> KubeError {
        switch code {
        case 400: return .badRequest(status)
        case 401: return .unauthorized(status)
        case 403: return .forbidden(status)
        case 404: return .notFound(status)
        case 409: return .conflict(status)
        case 410: return .gone(status)
        case 422: return .invalid(status)
        case 500...599: return .server(code: code, status)
        default: return .unexpected(code: code, status)
        }
    }

    /// The HTTP status code, when the failure came from the API server.
    public var code: Int? {
        switch self {
        case .badRequest: return 400
        case .unauthorized: return 401
        case .forbidden: return 403
        case .notFound: return 404
        case .conflict: return 409
        case .gone: return 410
        case .invalid: return 422
        case .server(let code, _), .unexpected(let code, _): return code
        case .transport, .decoding, .configuration: return nil
        }
    }

    /// The server's `Status`, when there was one.
    public var status: KubeStatus? {
        switch self {
        case .badRequest(let status), .unauthorized(let status), .forbidden(let status), .notFound(let status),
            .conflict(let status), .gone(let status), .invalid(let status):
            return status
        case .server(_, let status), .unexpected(_, let status):
            return status
        case .transport, .decoding, .configuration:
            return nil
        }
    }

    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 }
    public var isGone: Bool { code == 410 }

    /// Worth retrying unchanged: transport failures, 5xx and 429.
    public var isTransient: Bool {
        switch self {
        case .transport, .server: return true
        case .unexpected(let code, _): return code == 429
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .transport(let message): return "kubernetes transport error: \(message)"
        case .decoding(let message): return "kubernetes decoding error: \(message)"
        case .configuration(let message): return "kubernetes configuration error: \(message)"
        default:
            let status = self.status
            let reason = status?.reason.map { " \($0)" } ?? ""
            return "kubernetes API error \(code ?? 0)\(reason): \(status?.message ?? "no message")"
        }
    }
}
