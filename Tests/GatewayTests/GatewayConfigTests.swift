import Foundation
import OaaSCore
import Testing

@testable import Gateway

@Suite("GatewayConfig")
struct GatewayConfigTests {
    @Test func defaults() throws {
        let env = EnvReader([:])
        let config = GatewayConfig(env: env)
        try env.validate()
        #expect(config == GatewayConfig())
        #expect(config.httpPort == 8080)
        #expect(config.grpcPort == 8080)
        #expect(config.requestTimeout == .milliseconds(30_000))
        #expect(config.maxTimeout == .milliseconds(300_000))
        #expect(config.maxPayloadBytes == 4_194_304)
        #expect(config.maxStringIdLength == 160)
        #expect(config.retryAttempts == 1)
        #expect(config.retryBackoff == .milliseconds(25))
        #expect(config.webSocketEnabled == false)
        #expect(config.defaultODGMURL == nil)
        #expect(config.routerURL == nil)
        #expect(config.envName == nil)
    }

    @Test func prefixedNameWinsOverBareName() throws {
        let env = EnvReader([
            "OPRC_GW_HTTP_PORT": "9000", "HTTP_PORT": "9999",
            "MAX_PAYLOAD_BYTES": "1024",
            "OPRC_GW_ODGM_MAX_STRING_ID_LEN": "64",
            "REQUEST_TIMEOUT_MS": "1500", "OPRC_GW_MAX_TIMEOUT_MS": "5000",
            "RETRY_ATTEMPTS": "3", "OPRC_GW_RETRY_BACKOFF_MS": "10",
            "GATEWAY_WS_ENABLED": "1",
            "OPRC_GW_DEFAULT_ODGM_URL": "http://odgm:8080",
            "OPRC_ROUTER_URL": "http://router:17447", "OPRC_ENV": "edge",
        ])
        let config = GatewayConfig(env: env)
        try env.validate()
        #expect(config.httpPort == 9000)
        #expect(config.grpcPort == 9000)
        #expect(config.maxPayloadBytes == 1024)
        #expect(config.maxStringIdLength == 64)
        #expect(config.requestTimeout == .milliseconds(1500))
        #expect(config.maxTimeout == .milliseconds(5000))
        #expect(config.retryAttempts == 3)
        #expect(config.retryBackoff == .milliseconds(10))
        #expect(config.webSocketEnabled)
        #expect(config.defaultODGMURL == "http://odgm:8080")
        #expect(config.routerURL == "http://router:17447")
        #expect(config.envName == "edge")
    }

    @Test func routerAndEnvAreUnprefixed() throws {
        let env = EnvReader(["OPRC_GW_OPRC_ROUTER_URL": "http://wrong:1", "OPRC_GW_OPRC_ENV": "wrong"])
        let config = GatewayConfig(env: env)
        try env.validate()
        #expect(config.routerURL == nil)
        #expect(config.envName == nil)
    }

    @Test func devDefaults() throws {
        let env = EnvReader(["GRPC_PORT": "9090"])
        let config = GatewayConfig(env: env, defaults: GatewayConfig(httpPort: 8081, webSocketEnabled: true))
        try env.validate()
        #expect(config.httpPort == 8081)
        #expect(config.grpcPort == 9090)
        #expect(config.webSocketEnabled)
    }

    @Test func badValuesAreCollected() {
        let env = EnvReader([
            "OPRC_GW_HTTP_PORT": "eighty",
            "MAX_PAYLOAD_BYTES": "-5",
            "GATEWAY_WS_ENABLED": "maybe",
            "OPRC_GW_REQUEST_TIMEOUT_MS": "600000",
            "DEFAULT_ODGM_URL": "not a url",
            "OPRC_ROUTER_URL": "router-without-scheme",
        ])
        let config = GatewayConfig(env: env)
        let errors = env.errors
        #expect(errors.count == 6)
        for variable in ["OPRC_GW_HTTP_PORT", "MAX_PAYLOAD_BYTES", "GATEWAY_WS_ENABLED", "OPRC_GW_REQUEST_TIMEOUT_MS", "DEFAULT_ODGM_URL", "OPRC_ROUTER_URL"] {
            #expect(errors.contains { $0.hasPrefix(variable + ":") }, "no problem reported for \(variable): \(errors)")
        }
        #expect(throws: ConfigurationError.self) { try env.validate() }
        // Defaults are kept for bad values.
        #expect(config.httpPort == 8080)
        #expect(config.maxPayloadBytes == 4_194_304)
    }
}
