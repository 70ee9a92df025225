import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import OaaSCore
import Synchronization

/// Connection settings of the etcd backend (control-plane spec §7, `ETCD_*`).
public struct EtcdConfig: Sendable, Equatable {
    /// Client URLs tried in order; a bare `host:port` gets `http://` (`https://` when TLS is enabled).
    public var endpoints: [String]
    /// Every logical key is stored under `keyPrefix` + `/`.
    public var keyPrefix: String
    /// Bound of one store call, failover and re-authentication included.
    public var timeout: Duration
    public var username: String?
    public var password: String?
    /// Custom TLS for `https://` endpoints; `nil` keeps the system trust store.
    public var tls: TLS?

    public typealias TLS = TLSFiles

    public static let defaultEndpoint = "localhost:2379"
    public static let defaultKeyPrefix = "/oaas/pm"

    public init(
        endpoints: [String] = [defaultEndpoint],
        keyPrefix: String = defaultKeyPrefix,
        timeout: Duration = .seconds(30),
        username: String? = nil,
        password: String? = nil,
        tls: TLS? = nil
    ) {
        self.endpoints = endpoints
        self.keyPrefix = keyPrefix
        self.timeout = timeout
        self.username = username
        self.password = password
        self.tls = tls
    }

    /// Reads `ETCD_*`; every bad value is reported to `env` (start-up then exits 2).
    public init(env: EnvReader) {
        let tlsEnabled = env.bool("ETCD_TLS_ENABLED", default: false)
        let rawEndpoints = env.string("ETCD_ENDPOINTS", default: Self.defaultEndpoint)
        var endpoints: [String] = []
        for raw in rawEndpoints.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            if Self.endpointURL(entry, tls: tlsEnabled) == nil {
                env.report("ETCD_ENDPOINTS: '\(entry)' is not an http(s)://host:port endpoint")
            } else {
                endpoints.append(entry)
            }
        }
        if rawEndpoints.split(separator: ",").allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            env.report("ETCD_ENDPOINTS: no endpoint given")
        }
        let username = env.string("ETCD_USERNAME")
        let password = env.string("ETCD_PASSWORD")
        if username != nil, password == nil { env.report("ETCD_PASSWORD: required when ETCD_USERNAME is set") }
        if password != nil, username == nil { env.report("ETCD_USERNAME: required when ETCD_PASSWORD is set") }
        var tls: TLS?
        if tlsEnabled {
            let value = TLS(
                caCertPath: env.string("ETCD_CA_CERT_PATH"),
                clientCertPath: env.string("ETCD_CLIENT_CERT_PATH"),
                clientKeyPath: env.string("ETCD_CLIENT_KEY_PATH"),
                insecure: env.bool("ETCD_TLS_INSECURE", default: false)
            )
            if value.clientCertPath != nil, value.clientKeyPath == nil { env.report("ETCD_CLIENT_KEY_PATH: required when ETCD_CLIENT_CERT_PATH is set") }
            if value.clientKeyPath != nil, value.clientCertPath == nil { env.report("ETCD_CLIENT_CERT_PATH: required when ETCD_CLIENT_KEY_PATH is set") }
            tls = value
        }
        self.init(
            endpoints: endpoints,
            keyPrefix: env.string("ETCD_KEY_PREFIX", default: Self.defaultKeyPrefix),
            timeout: .seconds(env.int("ETCD_TIMEOUT", default: 30, range: 1...86_400)),
            username: username,
            password: password,
            tls: tls
        )
    }

    /// The base URL of an endpoint (no trailing `/`), or nil when it is not `http(s)://host[:port]`.
    public static func endpointURL(_ raw: String, tls: Bool) -> String? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if !text.contains("://") { text = (tls ? "https://" : "http://") + text }
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.path.isEmpty, url.query == nil
        else { return nil }
        return text
    }
}

/// The HA PM backend: etcd v3 through its HTTP JSON gateway (control-plane spec §6).
///
/// Logical keys live under `keyPrefix/`; an item's revision is its etcd `mod_revision`. Every commit is one etcd
/// transaction, so guards and all writes apply atomically. Call ``shutdown()`` when done (the HTTP pool is owned).
public final class EtcdKVStore: KVStore {
    public let config: EtcdConfig
    private let endpoints: [String]
    /// `keyPrefix` + `/`, as bytes.
    private let root: [UInt8]
    private let client: HTTPClient
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        /// The endpoint that answered last; requests start there and fail over in list order.
        var preferred = 0
        var token: String?
        /// Authentication was attempted; a nil token then means the cluster has auth disabled.
        var authenticated = false
        var shutDown = false
    }

    /// Responses above this are refused (a full listing of a large PM is far below it).
    private static let maxResponseBytes = 256 * 1024 * 1024

    public init(config: EtcdConfig, logger: Logger = Logger(label: "oaas.pm.etcd")) throws(ConfigurationError) {
        var endpoints: [String] = []
        for raw in config.endpoints {
            guard let url = EtcdConfig.endpointURL(raw, tls: config.tls != nil) else {
                throw ConfigurationError("ETCD_ENDPOINTS: '\(raw)' is not an http(s)://host:port endpoint")
            }
            endpoints.append(url)
        }
        guard !endpoints.isEmpty else { throw ConfigurationError("ETCD_ENDPOINTS: no endpoint given") }
        var prefix = config.keyPrefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.config = config
        self.endpoints = endpoints
        self.root = Array((prefix + "/").utf8)
        self.logger = logger
        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: try config.tls.map(Self.tlsConfiguration),
            redirectConfiguration: .disallow,
            // A dead endpoint must fail fast so the next one is tried within the request budget.
            timeout: .init(connect: Self.timeAmount(min(config.timeout, .seconds(5)))),
            connectionPool: .init(idleTimeout: .seconds(60)),
            decompression: .disabled
        )
        // The pool would retry a refused connection until the request deadline; `call` fails over and retries itself.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
    }

    /// Closes the connection pool. Further calls fail with `unavailable`.
    public func shutdown() async {
        let first = state.withLock { state in
            defer { state.shutDown = true }
            return !state.shutDown
        }
        if first { try? await client.shutdown() }
    }

    deinit {
        // An un-shut client would leak its pool (and trap in debug builds); close it in the background.
        if !state.withLock({ $0.shutDown }) { client.shutdown { _ in } }
    }

    private static func tlsConfiguration(_ settings: EtcdConfig.TLS) throws(ConfigurationError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let path = settings.caCertPath {
            tls.trustRoots = .certificates(try load("ETCD_CA_CERT_PATH", path) { try NIOSSLCertificate.fromPEMFile(path) })
        }
        if let certificate = settings.clientCertPath, let key = settings.clientKeyPath {
            tls.certificateChain = try load("ETCD_CLIENT_CERT_PATH", certificate) { try NIOSSLCertificate.fromPEMFile(certificate) }
                .map { .certificate($0) }
            tls.privateKey = .privateKey(try load("ETCD_CLIENT_KEY_PATH", key) { try NIOSSLPrivateKey(file: key, format: .pem) })
        }
        if settings.insecure { tls.certificateVerification = .none }
        return tls
    }

    private static func load<T>(_ variable: String, _ path: String, _ body: () throws -> T) throws(ConfigurationError) -> T {
        do {
            return try body()
        } catch {
            throw ConfigurationError("\(variable): cannot load '\(path)': \(error)")
        }
    }

    // MARK: KVStore

    public func get(_ key: String) async throws -> KVItem? {
        let response: RangeResponse = try await call("/v3/kv/range", RangeRequest(key: encode(storageKey(key))))
        return response.kvs?.lazy.compactMap(item).first
    }

    public func list(prefix: String, after: String?, limit: Int?) async throws -> [KVItem] {
        if let limit, limit <= 0 { return [] }
        let from = storageKey(prefix)
        let end = Self.prefixEnd(from)
        var start = from
        if let after {
            // Strictly after `after`: the smallest key above it is `after` + 0x00.
            let resume = storageKey(after) + [0]
            if from.lexicographicallyPrecedes(resume) { start = resume }
        }
        guard Self.isNonEmpty((start, end)) else { return [] }
        // etcd returns a range in key order, so its `limit` keeps the first keys.
        let request = RangeRequest(key: encode(start), rangeEnd: encode(end), limit: limit.map { String($0) })
        let response: RangeResponse = try await call("/v3/kv/range", request)
        return (response.kvs ?? []).compactMap(item)
    }

    @discardableResult
    public func commit(_ operations: [KVOperation], if conditions: [KVCondition]) async throws -> UInt64 {
        var compares: [Compare] = []
        var guarded: [String] = []
        for condition in conditions {
            switch condition {
            case .absent(let key):
                compares.append(Compare(key: encode(storageKey(key)), target: "CREATE", createRevision: "0"))
                if !guarded.contains(key) { guarded.append(key) }
            case .revision(let key, let expected):
                if expected > 0, expected <= UInt64(Int64.max) {
                    compares.append(Compare(key: encode(storageKey(key)), target: "MOD", modRevision: String(expected)))
                } else {
                    // No stored key has this revision, and a missing key compares as mod_revision 0: never true.
                    compares.append(Compare(key: encode(storageKey(key)), target: "CREATE", result: "LESS", createRevision: "0"))
                }
                if !guarded.contains(key) { guarded.append(key) }
            }
        }
        // On failure etcd does not say which compare failed; reading the guarded keys in the same txn tells.
        let failure = guarded.map { RequestOp(requestRange: RangeRequest(key: encode(storageKey($0)))) }
        let request = TxnRequest(compare: compares, success: writes(operations), failure: failure)
        let response: TxnResponse = try await call("/v3/kv/txn", request)
        guard response.succeeded == true else {
            throw KVStoreError.conflict(failedGuard(conditions, response) ?? guarded.first ?? "")
        }
        return UInt64(clamping: response.header?.revision?.value ?? 0)
    }

    public func health() async throws {
        _ = try await get("health")
    }

    // MARK: Keys and transactions

    private func storageKey(_ key: String) -> [UInt8] {
        root + Array(key.utf8)
    }

    private func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    private func item(_ kv: KeyValue) -> KVItem? {
        guard let key = kv.key.flatMap({ Data(base64Encoded: $0) }), key.starts(with: root) else { return nil }
        return KVItem(
            key: String(decoding: key.dropFirst(root.count), as: UTF8.self),
            value: kv.value.flatMap { Data(base64Encoded: $0) } ?? Data(),
            revision: UInt64(clamping: kv.modRevision?.value ?? 0)
        )
    }

    /// The first key after every key that starts with `prefix` (etcd's `range_end` for a prefix).
    static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        // Only 0xFF bytes (never the case for UTF-8 keys): etcd reads range_end "\0" as "to the end of the keyspace".
        return [0]
    }

    /// The commit's writes as etcd txn operations, applied in order like the other backends.
    ///
    /// etcd refuses a txn that puts one key twice or puts a key inside a range it also deletes, so later
    /// operations are folded into earlier ones: a delete drops the earlier puts it covers, and a put cuts its key
    /// out of the earlier delete ranges.
    private func writes(_ operations: [KVOperation]) -> [RequestOp] {
        var puts: [(key: [UInt8], value: Data)] = []
        var deletes: [(start: [UInt8], end: [UInt8])] = []
        for operation in operations {
            switch operation {
            case .put(let key, let value):
                let bytes = storageKey(key)
                puts.removeAll { $0.key == bytes }
                puts.append((bytes, value))
            case .delete(let key):
                let bytes = storageKey(key)
                puts.removeAll { $0.key == bytes }
                deletes.append((bytes, bytes + [0]))
            case .deletePrefix(let prefix):
                let bytes = storageKey(prefix)
                puts.removeAll { $0.key.starts(with: bytes) }
                deletes.append((bytes, Self.prefixEnd(bytes)))
            }
        }
        for put in puts {
            deletes = deletes.flatMap { range -> [(start: [UInt8], end: [UInt8])] in
                guard Self.contains(range, put.key) else { return [range] }
                return [(range.start, put.key), (put.key + [0], range.end)].filter { Self.isNonEmpty($0) }
            }
        }
        var ops = deletes.map { range in
            let point = range.end == range.start + [0]
            return RequestOp(requestDeleteRange: DeleteRangeRequest(key: encode(range.start), rangeEnd: point ? nil : encode(range.end)))
        }
        ops += puts.map { RequestOp(requestPut: PutRequest(key: encode($0.key), value: $0.value.base64EncodedString())) }
        return ops
    }

    /// `[0]` as an end means "no upper bound" (see ``prefixEnd(_:)``).
    private static func contains(_ range: (start: [UInt8], end: [UInt8]), _ key: [UInt8]) -> Bool {
        !key.lexicographicallyPrecedes(range.start) && (range.end == [0] || key.lexicographicallyPrecedes(range.end))
    }

    private static func isNonEmpty(_ range: (start: [UInt8], end: [UInt8])) -> Bool {
        range.end == [0] || range.start.lexicographicallyPrecedes(range.end)
    }

    /// The first condition that the failure-branch snapshot of the guarded keys violates.
    private func failedGuard(_ conditions: [KVCondition], _ response: TxnResponse) -> String? {
        var current: [String: KVItem] = [:]
        for op in response.responses ?? [] {
            for kv in op.responseRange?.kvs ?? [] {
                if let item = item(kv) { current[item.key] = item }
            }
        }
        for condition in conditions {
            switch condition {
            case .absent(let key) where current[key] != nil: return key
            case .revision(let key, let expected) where current[key]?.revision != expected: return key
            default: continue
            }
        }
        return nil
    }

    // MARK: HTTP

    /// A failure that says nothing about the request itself, so the next endpoint may answer it.
    private struct EndpointFailure: Error {
        var reason: String
        /// False for failures that waiting will not cure (a rejected TLS handshake).
        var transient = true
    }

    /// Posts to the endpoints in order, starting with the one that answered last, and keeps cycling through them
    /// with a short backoff while none is reachable; `timeout` bounds the whole call.
    ///
    /// Failing over after the request may have reached etcd is safe for PM: a repeated put writes the same value,
    /// and a repeated guarded commit fails its compare, which PM handles as an ordinary CAS race.
    private func call<Response: Decodable>(_ path: String, _ payload: some Encodable) async throws -> Response {
        let (start, shutDown) = state.withLock { ($0.preferred, $0.shutDown) }
        if shutDown { throw KVStoreError.unavailable("etcd client is shut down") }
        let body: Data
        do {
            body = try Self.encoder.encode(payload)
        } catch {
            throw KVStoreError.unavailable("cannot encode etcd request \(path): \(error)")
        }
        let deadline = NIODeadline.now() + Self.timeAmount(config.timeout)
        var pause = TimeAmount.milliseconds(50)
        while true {
            var failures: [String] = []
            var transient = false
            for offset in 0..<endpoints.count {
                let index = (start + offset) % endpoints.count
                let endpoint = endpoints[index]
                do {
                    let bytes = try await exchange(path, body, on: endpoint, deadline: deadline)
                    if index != start {
                        state.withLock { $0.preferred = index }
                        logger.warning("etcd endpoint switched", metadata: ["endpoint": "\(endpoint)", "failed": "\(failures.joined(separator: "; "))"])
                    }
                    do {
                        return try Self.decoder.decode(Response.self, from: bytes)
                    } catch {
                        throw KVStoreError.unavailable("unexpected etcd response from \(endpoint)\(path): \(error)")
                    }
                } catch let failure as EndpointFailure {
                    if Task.isCancelled { throw KVStoreError.unavailable("etcd request \(path) cancelled") }
                    failures.append("\(endpoint): \(failure.reason)")
                    transient = transient || failure.transient
                    logger.debug("etcd endpoint failed", metadata: ["endpoint": "\(endpoint)", "error": "\(failure.reason)"])
                }
            }
            guard transient, NIODeadline.now() + pause < deadline else {
                throw KVStoreError.unavailable("no etcd endpoint answered \(path): \(failures.joined(separator: "; "))")
            }
            do {
                try await Task.sleep(for: .nanoseconds(pause.nanoseconds))
            } catch {
                throw KVStoreError.unavailable("etcd request \(path) cancelled")
            }
            pause = min(pause * 2, .seconds(1))
        }
    }

    /// One endpoint, authenticating first when needed and once more when etcd rejects the token.
    private func exchange(_ path: String, _ body: Data, on endpoint: String, deadline: NIODeadline) async throws -> Data {
        var token = try await currentToken(on: endpoint, deadline: deadline)
        var retried = false
        while true {
            let (status, response) = try await post(endpoint, path, body, token: token, deadline: deadline)
            if status == 200 { return response }
            let message = Self.errorMessage(response)
            // 401: expired or revoked token; "user name is empty": auth was enabled after we found it disabled.
            if config.username != nil, !retried, status == 401 || message.contains("user name is empty") {
                retried = true
                token = try await authenticate(on: endpoint, deadline: deadline)
                continue
            }
            // 503 is etcd's gRPC UNAVAILABLE (e.g. no leader): another member may be fine.
            if status == 503 { throw EndpointFailure(reason: "HTTP 503: \(message)") }
            throw KVStoreError.unavailable("etcd \(endpoint)\(path): HTTP \(status): \(message)")
        }
    }

    private func currentToken(on endpoint: String, deadline: NIODeadline) async throws -> String? {
        guard config.username != nil else { return nil }
        let (done, token) = state.withLock { ($0.authenticated, $0.token) }
        if done { return token }
        return try await authenticate(on: endpoint, deadline: deadline)
    }

    /// Fetches a fresh token; nil when the cluster has authentication disabled.
    private func authenticate(on endpoint: String, deadline: NIODeadline) async throws -> String? {
        let request = AuthRequest(name: config.username ?? "", password: config.password ?? "")
        let body: Data
        do {
            body = try Self.encoder.encode(request)
        } catch {
            throw KVStoreError.unavailable("cannot encode etcd authentication: \(error)")
        }
        let (status, response) = try await post(endpoint, "/v3/auth/authenticate", body, token: nil, deadline: deadline)
        let token: String?
        switch status {
        case 200:
            guard let value = try? Self.decoder.decode(AuthResponse.self, from: response).token, !value.isEmpty else {
                throw KVStoreError.unavailable("etcd \(endpoint) returned no auth token")
            }
            token = value
        case 412:
            // FAILED_PRECONDITION "authentication is not enabled": requests go without a token.
            token = nil
        case 503:
            throw EndpointFailure(reason: "HTTP 503: \(Self.errorMessage(response))")
        default:
            throw KVStoreError.unavailable("etcd authentication as '\(request.name)' failed at \(endpoint): HTTP \(status): \(Self.errorMessage(response))")
        }
        state.withLock {
            $0.token = token
            $0.authenticated = true
        }
        return token
    }

    private func post(_ endpoint: String, _ path: String, _ body: Data, token: String?, deadline: NIODeadline) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        // The gateway hands `Authorization` to etcd as the token metadata (no "Bearer").
        if let token { request.headers.add(name: "Authorization", value: token) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, deadline: deadline, logger: logger)
            let bytes = try await response.body.collect(upTo: Self.maxResponseBytes)
            return (Int(response.status.code), Data(bytes.readableBytesView))
        } catch {
            // A refused certificate (ours or the server's) stays refused: no point retrying until the deadline.
            throw EndpointFailure(reason: "\(error)", transient: !(error is NIOSSLError || error is BoringSSLError))
        }
    }

    private static func errorMessage(_ body: Data) -> String {
        if let error = try? decoder.decode(ErrorBody.self, from: body), let text = error.message ?? error.error {
            return text
        }
        return String(decoding: body.prefix(512), as: UTF8.self)
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(min(seconds, 86_400 * 365) * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}

// MARK: Gateway wire types (int64 fields travel as strings; empty fields are omitted)

private struct RangeRequest: Encodable {
    var key: String
    var rangeEnd: String?
    var limit: String?
}

private struct PutRequest: Encodable {
    var key: String
    var value: String
}

private struct DeleteRangeRequest: Encodable {
    var key: String
    var rangeEnd: String?
}

private struct Compare: Encodable {
    var key: String
    var target: String
    var result = "EQUAL"
    var createRevision: String?
    var modRevision: String?
}

private struct RequestOp: Encodable {
    var requestRange: RangeRequest?
    var requestPut: PutRequest?
    var requestDeleteRange: DeleteRangeRequest?
}

private struct TxnRequest: Encodable {
    var compare: [Compare]
    var success: [RequestOp]
    var failure: [RequestOp]
}

private struct AuthRequest: Encodable {
    var name: String
    var password: String
}

/// An int64 that etcd 3.4's gateway writes as a JSON string (newer gateways may write a number).
private struct EtcdInt: Decodable {
    var value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), let parsed = Int64(text) {
            value = parsed
        } else {
            value = try container.decode(Int64.self)
        }
    }
}

private struct ResponseHeader: Decodable {
    var revision: EtcdInt?
}

private struct KeyValue: Decodable {
    var key: String?
    var value: String?
    var modRevision: EtcdInt?
}

private struct RangeResponse: Decodable {
    var header: ResponseHeader?
    var kvs: [KeyValue]?
}

private struct ResponseOp: Decodable {
    var responseRange: RangeResponse?
}

private struct TxnResponse: Decodable {
    var header: ResponseHeader?
    /// Absent when false.
    var succeeded: Bool?
    var responses: [ResponseOp]?
}

private struct AuthResponse: Decodable {
    var token: String?
}

private struct ErrorBody: Decodable {
    var error: String?
    var message: String?
}
