import AsyncHTTPClient
import Foundation
import NIOCore

/// One answer of PM, whatever its status.
struct PMResponse: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [(name: String, value: String)]
    var body: Data

    var isSuccess: Bool { (200..<300).contains(status) }

    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    /// The body as a JSON tree; an empty body is `null`.
    func json() throws -> StructuredValue {
        guard !body.isEmpty else { return .null }
        do {
            return StructuredValue.from(any: try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]))
        } catch {
            throw CLIFailure(code: "INTERNAL", message: "PM answered \(status) with a body that is not JSON: \(PMError.snippet(body))")
        }
    }
}

/// A non-2xx answer: PM's error envelope `{"error":{code, message, field, details}}` (spec §4.1).
struct PMError: Error, CLIFailureConvertible, Equatable, Sendable {
    struct Detail: Equatable, Sendable {
        var field: String?
        var message: String
    }

    var status: Int
    var code: String
    var message: String
    var field: String?
    var details: [Detail]

    init(status: Int, code: String, message: String, field: String? = nil, details: [Detail] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details
    }

    /// Reads the envelope; a body without one (a proxy's page, say) still gives a readable error.
    init(response: PMResponse) {
        let envelope = (try? response.json())?["error"]
        guard let envelope, let code = envelope["code"]?.stringValue else {
            let text = response.body.isEmpty ? "no body" : Self.snippet(response.body)
            self.init(status: response.status, code: "HTTP_\(response.status)", message: "PM answered \(response.status): \(text)")
            return
        }
        let details = (envelope["details"]?.arrayValue ?? []).compactMap { item -> Detail? in
            if let text = item.stringValue { return Detail(field: nil, message: text) }
            guard let message = item["message"]?.stringValue else { return nil }
            return Detail(field: item["field"]?.stringValue, message: message)
        }
        self.init(status: response.status, code: code, message: envelope["message"]?.stringValue ?? "(no message)",
                  field: envelope["field"]?.stringValue, details: details)
    }

    /// `error: CODE: message` plus one line per detail (without repeating a field the message already names).
    var cliFailure: CLIFailure {
        let lines = details.map { detail -> String in
            guard let field = detail.field, !field.isEmpty, !detail.message.hasPrefix("\(field): ") else {
                return "- \(detail.message)"
            }
            return "- \(field): \(detail.message)"
        }
        return CLIFailure(code: code, message: message, details: lines)
    }

    static func snippet(_ body: Data) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return body.count > 200 ? text + "…" : text
    }
}

/// PM's REST API over HTTP/1.1 (AsyncHTTPClient). Every request carries `--correlation-id` when given.
struct PMClient: Sendable {
    enum Method: String, Sendable {
        case get = "GET", post = "POST", put = "PUT", delete = "DELETE"
    }

    static let maxResponseBytes = 64 * 1024 * 1024
    /// PM may retry CRM calls for a while (spec §5.5) before it answers a deploy.
    static let defaultTimeout: Duration = .seconds(120)

    var endpoint: PMEndpoint
    var correlationID: String?
    var timeout: Duration = Self.defaultTimeout
    let http: HTTPClient

    init(endpoint: PMEndpoint, correlationID: String? = nil, http: HTTPClient) {
        self.endpoint = endpoint
        self.correlationID = correlationID
        self.http = http
    }

    /// Runs `body` with an HTTP client made for one CLI invocation and shuts it down afterwards.
    /// Unlike the shared client it does not retry refused connections until the connect timeout:
    /// a PM that is not running is reported at once.
    static func withHTTPClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(http)
            try? await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// Sends one request and returns the answer whatever its status. Transport failures become
    /// `PM_UNREACHABLE` (nothing answered) or `DEADLINE_EXCEEDED`.
    func send(_ method: Method, _ segments: [String], query: [(String, String)] = [],
              headers: [(String, String)] = [], json body: Data? = nil) async throws -> PMResponse {
        var request = HTTPClientRequest(url: endpoint.url(segments, query: query))
        request.method = .init(rawValue: method.rawValue)
        request.headers.add(name: "Accept", value: "application/json")
        if let correlationID { request.headers.add(name: "X-Correlation-ID", value: correlationID) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        do {
            let response = try await http.execute(request, timeout: Self.timeAmount(timeout))
            let body: Data
            do {
                body = Data(try await response.body.collect(upTo: Self.maxResponseBytes).readableBytesView)
            } catch let error as HTTPClientError where Self.isTimeout(error) {
                throw error
            } catch {
                throw CLIFailure(code: "UNAVAILABLE", message: "PM's answer to \(method.rawValue) \(request.url) was cut short: \(Self.describe(error))")
            }
            return PMResponse(status: Int(response.status.code),
                              headers: response.headers.map { (name: $0.name.lowercased(), value: $0.value) },
                              body: body)
        } catch let error as HTTPClientError where Self.isTimeout(error) {
            throw CLIFailure(code: "DEADLINE_EXCEEDED", message: "PM at \(endpoint) did not answer \(method.rawValue) within \(timeout)")
        } catch let failure as CLIFailure {
            throw failure
        } catch {
            throw Self.unreachable(endpoint, error)
        }
    }

    private static func isTimeout(_ error: HTTPClientError) -> Bool {
        error == .deadlineExceeded || error == .readTimeout
    }

    /// ``send(_:_:query:headers:json:)`` that throws PM's error envelope on a non-2xx status.
    func call(_ method: Method, _ segments: [String], query: [(String, String)] = [],
              headers: [(String, String)] = [], json body: Data? = nil) async throws -> PMResponse {
        let response = try await send(method, segments, query: query, headers: headers, json: body)
        guard response.isSuccess else { throw PMError(response: response) }
        return response
    }

    /// Every item of a paged list (spec §4.1: `limit` ≤ 1000, `offset`, `X-Total-Count`).
    func list(_ segments: [String], query: [(String, String)] = []) async throws -> (items: [StructuredValue], response: PMResponse) {
        let pageSize = 1000
        var items: [StructuredValue] = []
        while true {
            let page = try await call(.get, segments, query: query + [("limit", String(pageSize)), ("offset", String(items.count))])
            let json = try page.json()
            guard let batch = json.arrayValue else {
                throw CLIFailure(code: "INTERNAL", message: "PM answered GET /\(segments.joined(separator: "/")) with \(json.kindName), expected a list")
            }
            items += batch
            let total = page.header("x-total-count").flatMap(Int.init)
            // A short page, an empty one, or reaching the total ends the walk (a PM without the header pages once).
            if batch.count < pageSize || batch.isEmpty || total.map({ items.count >= $0 }) ?? true {
                return (items, page)
            }
        }
    }

    static func unreachable(_ endpoint: PMEndpoint, _ error: any Error) -> CLIFailure {
        CLIFailure(code: "PM_UNREACHABLE", message: "cannot reach PM at \(endpoint): \(describe(error)) (is `oaas dev` running?)",
                   hint: "set the PM URL with --pm URL, OAAS_PM_URL or 'oaas context set --pm URL'")
    }

    /// The socket error's text ("Connection refused") rather than NIO's nested error dump.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if let range = text.range(of: "(errno: "),
           let errno = Int32(text[range.upperBound...].prefix(while: \.isNumber)),
           let message = strerror(errno) {
            return String(cString: message)
        }
        if let clientError = error as? HTTPClientError, clientError == .connectTimeout {
            return "connection timed out"
        }
        return text
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        // A year is far beyond any wait the CLI makes; it keeps the nanosecond count from overflowing.
        let capped = min(max(seconds, 0), 365 * 24 * 3600)
        return .nanoseconds(capped * 1_000_000_000 + (seconds < 0 ? 0 : attoseconds / 1_000_000_000))
    }
}
