/// A failure the test server answers instead of serving a matching request: an API server that says 409, 422 or
/// 500 (or is "down", 503) for some calls, so clients can be tested against it.
public struct KubeFault: Sendable {
    /// HTTP method to match (`PATCH`, `DELETE`…); nil matches any.
    public var method: String?
    /// A substring of the request path to match (`/deployments/`, `/classruntimes/cart-1`); empty matches any.
    public var pathContains: String
    /// Only requests whose query has this `key=value` (e.g. `("watch", "1")`); nil ignores the query.
    public var query: (String, String)?
    public var code: Int
    public var reason: String
    public var message: String
    /// How many matching requests fail; nil = until `clearFaults()`.
    public var times: Int?

    public init(
        method: String? = nil, pathContains: String = "", query: (String, String)? = nil, code: Int,
        reason: String? = nil, message: String? = nil, times: Int? = nil
    ) {
        self.method = method
        self.pathContains = pathContains
        self.query = query
        self.code = code
        self.reason = reason ?? Self.defaultReason(code)
        self.message = message ?? "injected fault \(code)"
        self.times = times
    }

    static func defaultReason(_ code: Int) -> String {
        switch code {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 409: "Conflict"
        case 422: "Invalid"
        case 429: "TooManyRequests"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: "InternalError"
        }
    }

    func matches(method: String, path: String, query: [String: String]) -> Bool {
        if let expected = self.method, expected.uppercased() != method.uppercased() { return false }
        if !pathContains.isEmpty, !path.contains(pathContains) { return false }
        if let (key, value) = self.query, query[key] != value { return false }
        return true
    }
}

extension KubeTestServer {
    /// Makes matching API requests fail with `fault` (checked before anything else; the request is still recorded).
    public func injectFault(_ fault: KubeFault) {
        store.withState { $0.faults.append(fault) }
    }

    public func clearFaults() {
        store.withState { $0.faults.removeAll() }
    }

    /// Faults still armed.
    public var activeFaults: [KubeFault] { store.withState { $0.faults } }
}

extension State {
    /// The first armed fault matching the request (consuming one of its `times`), as the error to answer with.
    mutating func takeFault(method: String, path: String, query: [String: String]) -> APIError? {
        guard let index = faults.firstIndex(where: { $0.matches(method: method, path: path, query: query) }) else {
            return nil
        }
        let fault = faults[index]
        if let times = fault.times {
            if times <= 1 {
                faults.remove(at: index)
            } else {
                faults[index].times = times - 1
            }
        }
        return APIError(code: fault.code, reason: fault.reason, message: fault.message)
    }
}
