import OaaSCore
import Testing
@testable import Router
import RouterClient

@Suite struct RouterConfigTests {
    @Test func defaultsFollowTheSpec() throws {
        let env = EnvReader([:])
        let config = RouterConfig(env: env)
        try env.validate()
        #expect(config.port == 17_447)
        #expect(config.env == "default")
        #expect(config.peers.isEmpty)
        #expect(config.leaseTTL == .milliseconds(10_000))
        #expect(config.subscriberBuffer == 1024)
        #expect(config.forwardTimeout == .milliseconds(30_000))
        #expect(config.maxHops == 4)
    }

    @Test func readsEveryVariable() throws {
        let env = EnvReader([
            "OPRC_ROUTER_PORT": "9000", "OPRC_ROUTER_ENV": "edge", "OPRC_ROUTER_PEERS": "http://r1:17447, r2:17447,,http://r1:17447",
            "OPRC_ROUTER_LEASE_TTL_MS": "3000", "OPRC_ROUTER_SUBSCRIBER_BUFFER": "8",
            "OPRC_ROUTER_FORWARD_TIMEOUT_MS": "500", "OPRC_ROUTER_MAX_HOPS": "2",
        ])
        let config = RouterConfig(env: env)
        try env.validate()
        #expect(config.port == 9000)
        #expect(config.env == "edge")
        #expect(config.peers == ["http://r1:17447", "r2:17447"])
        #expect(config.leaseTTL == .milliseconds(3000))
        #expect(config.subscriberBuffer == 8)
        #expect(config.forwardTimeout == .milliseconds(500))
        #expect(config.maxHops == 2)
    }

    @Test func badValuesAreReportedPerVariable() {
        let env = EnvReader([
            "OPRC_ROUTER_PORT": "http", "OPRC_ROUTER_PEERS": "ftp://r1:1", "OPRC_ROUTER_LEASE_TTL_MS": "5",
            "OPRC_ROUTER_SUBSCRIBER_BUFFER": "0", "OPRC_ROUTER_MAX_HOPS": "-1",
        ])
        let config = RouterConfig(env: env)
        #expect(config.port == 17_447)
        #expect(env.errors.count == 5)
        for variable in ["OPRC_ROUTER_PORT", "OPRC_ROUTER_PEERS", "OPRC_ROUTER_LEASE_TTL_MS", "OPRC_ROUTER_SUBSCRIBER_BUFFER", "OPRC_ROUTER_MAX_HOPS"] {
            #expect(env.errors.contains { $0.hasPrefix(variable + ":") }, "no error for \(variable)")
        }
        #expect(throws: ConfigurationError.self) { try env.validate() }
    }

    @Test func endpointsParse() {
        #expect(GRPCEndpoint(url: "http://a:1")?.description == "http://a:1")
        #expect(GRPCEndpoint(url: "a:2")?.port == 2)
        #expect(GRPCEndpoint(url: "http://a")?.port == 80)
        #expect(GRPCEndpoint(url: "https://a/x")?.port == 443)
        #expect(GRPCEndpoint(url: "http://[::1]:5")?.host == "::1")
        #expect(GRPCEndpoint(url: "ftp://a:1") == nil)
        #expect(GRPCEndpoint(url: "http://a:0") == nil)
        #expect(GRPCEndpoint(url: "http://:80") == nil)
    }
}
