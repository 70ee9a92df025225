import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// A small typed client for the Kubernetes REST API (control-plane spec §9.2).
///
/// One instance per process: it owns an HTTP connection pool, so call `shutdown()` when done. Every call except
/// `watch` is bounded by `requestTimeout` (the spec's `OPRC_CRM_K8S_CALL_TIMEOUT_SECS`).
public final class KubeClient: Sendable {
    public let configuration: KubeConfig
    /// Manager name recorded for non-apply writes and the default for `apply`.
    public let fieldManager: String
    public let requestTimeout: Duration
    let httpClient: HTTPClient
    let logger: Logger

    /// Largest response body accepted outside watches (the API server's own object limit is ~3 MiB; lists are larger).
    static let maxResponseBytes = 256 * 1024 * 1024

    public init(
        configuration: KubeConfig,
        fieldManager: String = "oaas",
        requestTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "oaas.kube")
    ) throws {
        guard let url = URL(string: configuration.server), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", url.host != nil
        else {
            throw KubeError.configuration("server URL \(configuration.server) is not http(s)://host[:port]")
        }
        self.configuration = configuration
        self.fieldManager = fieldManager
        self.requestTimeout = requestTimeout
        self.logger = logger
        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: scheme == "https" ? try Self.tlsConfiguration(for: configuration) : nil,
            redirectConfiguration: .disallow,
            // No read timeout: a watch legitimately sits idle; every other call has its own deadline.
            timeout: .init(connect: .seconds(10)),
            // One connection per open watch over HTTP/1.1: a controller runs about ten informers.
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64),
            decompression: .disabled
        )
        httpConfiguration.httpVersion = .automatic
        self.httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
    }

    /// Closes connections (open watches end). Call exactly once.
    /// Stops the HTTP client; gives up waiting after a few seconds (a pending connection attempt must not hold
    /// the caller's shutdown).
    public func shutdown() async throws {
        let client = httpClient
        if try await Self.answer(within: .seconds(5), { try await client.shutdown() }) == nil {
            logger.warning("kube client did not shut down within 5 s; abandoned")
        }
    }

    /// Runs `operation` and answers by `timeout` (nil) whatever it does. An unstructured race on purpose: a task
    /// group would wait for a child that never returns (seen with AsyncHTTPClient and refused connections on a
    /// loaded machine); the abandoned call is cancelled.
    static func answer<T: Sendable>(within timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
        let call = Task { try await operation() }
        let answered = Mutex(false)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T?, any Error>) in
                let answer: @Sendable (Result<T?, any Error>) -> Void = { result in
                    let first = answered.withLock { done in
                        defer { done = true }
                        return !done
                    }
                    if first { continuation.resume(with: result) }
                }
                Task {
                    do {
                        answer(.success(try await call.value))
                    } catch {
                        answer(.failure(Self.transportError(error)))
                    }
                }
                Task {
                    try? await Task.sleep(for: timeout)
                    call.cancel()
                    answer(.success(nil))
                }
            }
        } onCancel: {
            call.cancel()
        }
    }

    /// The default namespace (current context or pod namespace).
    public var namespace: String { configuration.namespace }

    static func tlsConfiguration(for configuration: KubeConfig) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = configuration.certificateAuthorityPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if let certificate = configuration.clientCertificatePEM, let key = configuration.clientKeyPEM {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw KubeError.configuration("unusable TLS material from \(configuration.source): \(error)")
        }
        if configuration.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        }
        return tls
    }
}

// MARK: Request plumbing

extension KubeClient {
    /// HTTP methods we use (kept local so callers need not import NIOHTTP1).
    enum Verb: String {
        case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"
    }

    struct Response {
        var status: Int
        var body: ByteBuffer
    }

    func makeRequest(
        method: Verb, path: String, query: [(String, String)], body: Data?, contentType: String?
    ) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.server + path + Self.encodeQuery(query))
        switch method {
        case .get: request.method = .GET
        case .post: request.method = .POST
        case .put: request.method = .PUT
        case .patch: request.method = .PATCH
        case .delete: request.method = .DELETE
        }
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "oaas-kube/1 (\(fieldManager))")
        switch configuration.credentials {
        case .none:
            break
        case .bearerToken(let token):
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .tokenFile(let file):
            request.headers.add(name: "Authorization", value: "Bearer \(try file.token())")
        case .basic(let username, let password):
            let encoded = Data("\(username):\(password)".utf8).base64EncodedString()
            request.headers.add(name: "Authorization", value: "Basic \(encoded)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// Sends a request and collects the body, all within `requestTimeout`.
    func send(
        _ method: Verb, _ path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String? = nil
    ) async throws -> Response {
        let request = try makeRequest(method: method, path: path, query: query, body: body, contentType: contentType)
        let timeout = requestTimeout
        let client = httpClient
        let result = try await Self.answer(within: timeout) {
            let response = try await client.execute(request, timeout: timeout.timeAmount)
            let collected = try await response.body.collect(upTo: Self.maxResponseBytes)
            return Response(status: Int(response.status.code), body: collected)
        }
        guard let result else {
            throw KubeError.transport("\(method.rawValue) \(path) timed out after \(timeout)")
        }
        logger.trace("kube call", metadata: ["method": "\(method.rawValue)", "path": "\(path)", "status": "\(result.status)"])
        return result
    }

    /// Sends a request and decodes a 2xx JSON answer; any other status becomes a typed `KubeError`.
    func call(
        _ method: Verb, _ path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String? = nil
    ) async throws -> JSONValue {
        let response = try await send(method, path, query: query, body: body, contentType: contentType)
        guard (200..<300).contains(response.status) else {
            throw Self.apiError(code: response.status, body: response.body)
        }
        return try JSONValue(jsonData: response.body.readableBytesView)
    }

    static func apiError(code: Int, body: ByteBuffer) -> KubeError {
        let status: KubeStatus
        if let decoded = try? JSONDecoder().decode(KubeStatus.self, from: Data(body.readableBytesView)),
           decoded.message != nil || decoded.reason != nil {
            status = decoded
        } else {
            let text = String(decoding: body.readableBytesView.prefix(512), as: UTF8.self)
            status = KubeStatus(message: text.isEmpty ? "HTTP \(code)" : text, code: code)
        }
        return KubeError.fromHTTP(code: code, status: status)
    }

    static func transportError(_ error: any Error) -> any Error {
        if error is KubeError || error is CancellationError { return error }
        if Task.isCancelled { return CancellationError() }
        return KubeError.transport(String(describing: error))
    }

    static func encodeQuery(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { key, value in
            let encoded = value.addingPercentEncoding(withAllowedCharacters: .kubePathSegment) ?? value
            return "\(key)=\(encoded)"
        }.joined(separator: "&")
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
