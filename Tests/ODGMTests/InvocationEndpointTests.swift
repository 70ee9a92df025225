import ODGM
import OaaSCore
import Testing

/// Route URLs (spec §5.2 step 3), the `oaas_owner` label (§11.2), pool options (§9.3) and
/// `grpc-timeout` parsing.
@Suite struct InvocationEndpointTests {
    @Test(arguments: [
        ("http://fn-echo.default.svc.cluster.local:8080/", RuntimeEndpoint.grpc(GRPCRuntimeTarget(host: "fn-echo.default.svc.cluster.local", port: 8080, tls: false)), "fn-echo"),
        ("http://Echo", .grpc(GRPCRuntimeTarget(host: "echo", port: 80, tls: false)), "echo"),
        ("https://fn.example.com/ignored/path?q=1", .grpc(GRPCRuntimeTarget(host: "fn.example.com", port: 443, tls: true)), "fn.example.com"),
        ("http://svc.ns.svc", .grpc(GRPCRuntimeTarget(host: "svc.ns.svc", port: 80, tls: false)), "svc"),
        ("http://user@10.0.0.7:9000", .grpc(GRPCRuntimeTarget(host: "10.0.0.7", port: 9000, tls: false)), "10.0.0.7"),
        ("http://[::1]:7000", .grpc(GRPCRuntimeTarget(host: "::1", port: 7000, tls: false)), "::1"),
        ("wasm://shop.cart-total/", .wasm(functionKey: "shop.cart-total"), "shop.cart-total"),
    ])
    func parsesRouteURLs(_ url: String, _ expected: RuntimeEndpoint, _ owner: String) throws {
        let endpoint = try RuntimeEndpoint(url: url)
        #expect(endpoint == expected)
        #expect(endpoint.owner == owner)
    }

    @Test(arguments: ["http://", "http://host:0", "http://host:70000", "http://host:x", "ftp://host", "wasm://", "http://[::1"])
    func rejectsUnusableURLs(_ url: String) {
        #expect(throws: RuntimeEndpoint.InvalidURL.self) { try RuntimeEndpoint(url: url) }
    }

    @Test func poolSettingsComeFromCollectionOptions() {
        #expect(RuntimePoolSettings(options: [:]) == RuntimePoolSettings(maxInFlight: 6400, maxIdle: .seconds(30), maxLifetime: .seconds(600)))
        let custom = RuntimePoolSettings(options: ["offload_max_pool_size": "8", "pool_max_idle_lifetime": "1000", "pool_max_lifetime": "0"])
        #expect(custom == RuntimePoolSettings(maxInFlight: 800, maxIdle: .seconds(1), maxLifetime: .seconds(600)))
    }

    @Test func grpcTimeoutValues() {
        #expect(GRPCTimeout.parse("250m") == .milliseconds(250))
        #expect(GRPCTimeout.parse("3S") == .seconds(3))
        #expect(GRPCTimeout.parse("2M") == .seconds(120))
        #expect(GRPCTimeout.parse("1H") == .seconds(3600))
        #expect(GRPCTimeout.parse("99999999u") == .microseconds(99_999_999))
        #expect(GRPCTimeout.parse("5n") == .nanoseconds(5))
        for bad in ["", "m", "10", "123456789m", "1x", "-1S", "1.5S"] { #expect(GRPCTimeout.parse(bad) == nil, "\(bad)") }
    }

    @Test func settingsFromEnvironment() throws {
        #expect(ODGMConfig(env: EnvReader([:])).invokeTimeout == .seconds(300))
        #expect(ODGMConfig(env: EnvReader(["ODGM_INVOKE_TIMEOUT_MS": "1500"])).invokeTimeout == .milliseconds(1500))
        let bad = EnvReader(["ODGM_INVOKE_TIMEOUT_MS": "soon"])
        _ = ODGMConfig(env: bad)
        #expect(bad.errors == ["ODGM_INVOKE_TIMEOUT_MS: 'soon' is not a valid integer"])
    }
}
