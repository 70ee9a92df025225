import Foundation
import OaaSCore

/// Gateway settings (data-plane spec §8.1). Each is read from `OPRC_GW_<NAME>`, then `<NAME>`;
/// `OPRC_ROUTER_URL` and `OPRC_ENV` are shared by all roles and read unprefixed.
public struct GatewayConfig: Sendable, Equatable {
    /// REST + gRPC + WebSocket listener.
    public var httpPort: Int
    /// Extra gRPC listener when different from `httpPort`.
    public var grpcPort: Int
    /// Default deadline of a request.
    public var requestTimeout: Duration
    /// Cap on deadlines requested by clients.
    public var maxTimeout: Duration
    /// Largest accepted request body; also the gRPC max receive size.
    public var maxPayloadBytes: Int
    /// Length rule of spec §1.1 checked before forwarding.
    public var maxStringIdLength: Int
    /// Extra attempts of an idempotent read that failed before reaching ODGM.
    public var retryAttempts: Int
    public var retryBackoff: Duration
    /// Registers the WebSocket routes.
    public var webSocketEnabled: Bool
    /// ODGM for classes with no route (single-node setups without a router).
    public var defaultODGMURL: String?
    public var routerURL: String?
    /// This node's environment name.
    public var envName: String?

    public init(
        httpPort: Int = 8080,
        grpcPort: Int? = nil,
        requestTimeout: Duration = .milliseconds(30_000),
        maxTimeout: Duration = .milliseconds(300_000),
        maxPayloadBytes: Int = 4_194_304,
        maxStringIdLength: Int = 160,
        retryAttempts: Int = 1,
        retryBackoff: Duration = .milliseconds(25),
        webSocketEnabled: Bool = false,
        defaultODGMURL: String? = nil,
        routerURL: String? = nil,
        envName: String? = nil
    ) {
        self.httpPort = httpPort
        self.grpcPort = grpcPort ?? httpPort
        self.requestTimeout = requestTimeout
        self.maxTimeout = maxTimeout
        self.maxPayloadBytes = maxPayloadBytes
        self.maxStringIdLength = maxStringIdLength
        self.retryAttempts = retryAttempts
        self.retryBackoff = retryBackoff
        self.webSocketEnabled = webSocketEnabled
        self.defaultODGMURL = defaultODGMURL
        self.routerURL = routerURL
        self.envName = envName
    }

    /// Reads the settings from `env`, falling back to `defaults` (so `oaas dev` can pass its own,
    /// e.g. port 8081 and WebSockets on). Bad values are reported to `env` and the default is kept;
    /// the caller stops start-up with `env.validate()`.
    public init(env: EnvReader, defaults: GatewayConfig = GatewayConfig()) {
        let gw = env.withPrefix("OPRC_GW_")
        var bare = env
        bare.prefixes = []

        httpPort = gw.int("HTTP_PORT", default: defaults.httpPort, range: 0...65_535)
        // GRPC_PORT defaults to the (possibly overridden) HTTP port, not to the default's.
        let grpcDefault = defaults.grpcPort == defaults.httpPort ? httpPort : defaults.grpcPort
        grpcPort = gw.int("GRPC_PORT", default: grpcDefault, range: 0...65_535)

        let requestMs = gw.int("REQUEST_TIMEOUT_MS", default: Self.milliseconds(defaults.requestTimeout), range: 1...Int64(Int32.max))
        let maxMs = gw.int("MAX_TIMEOUT_MS", default: Self.milliseconds(defaults.maxTimeout), range: 1...Int64(Int32.max))
        if requestMs > maxMs, let variable = gw.lookup("REQUEST_TIMEOUT_MS")?.name {
            gw.report("\(variable): \(requestMs) exceeds the maximum timeout \(maxMs)")
        }
        requestTimeout = .milliseconds(min(requestMs, maxMs))
        maxTimeout = .milliseconds(maxMs)

        maxPayloadBytes = gw.int("MAX_PAYLOAD_BYTES", default: defaults.maxPayloadBytes, range: 1...Int(Int32.max))
        maxStringIdLength = gw.int("ODGM_MAX_STRING_ID_LEN", default: defaults.maxStringIdLength, range: 1...65_535)
        retryAttempts = gw.int("RETRY_ATTEMPTS", default: defaults.retryAttempts, range: 0...100)
        retryBackoff = .milliseconds(gw.int("RETRY_BACKOFF_MS", default: Self.milliseconds(defaults.retryBackoff), range: 0...600_000))
        webSocketEnabled = gw.bool("GATEWAY_WS_ENABLED", default: defaults.webSocketEnabled)
        defaultODGMURL = Self.url(gw, "DEFAULT_ODGM_URL") ?? defaults.defaultODGMURL
        routerURL = Self.url(bare, "OPRC_ROUTER_URL") ?? defaults.routerURL
        envName = bare.string("OPRC_ENV") ?? defaults.envName
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// A URL setting must name a scheme and a host, so a typo fails at start-up, not on the first call.
    private static func url(_ env: EnvReader, _ name: String) -> String? {
        guard let (variable, raw) = env.lookup(name) else { return nil }
        guard let url = URL(string: raw), url.scheme != nil, let host = url.host, !host.isEmpty else {
            env.report("\(variable): '\(raw)' is not a URL with a scheme and a host")
            return nil
        }
        return raw
    }
}
