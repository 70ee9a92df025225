import Foundation
import OaaSCore
import PM
import Testing

private func data(_ text: String) -> Data { Data(text.utf8) }

/// What only the etcd backend has: key prefixing, endpoint failover, auth, TLS and a real server restart.
/// The shared semantics run against etcd in `KVStoreTests`.
@Suite(.enabled(if: EtcdTestServer.isInstalled, EtcdTestServer.skipReason))
struct EtcdKVStoreTests {
    @Test func keysLiveUnderThePrefixOnly() async throws {
        let server = try await EtcdTestServer.shared.value
        let base = "/oaas-test/\(UUID().uuidString)"
        // A trailing `/` must not double the separator.
        let store = try EtcdKVStore(config: server.config(prefix: base + "/pm/"))
        let sibling = try EtcdKVStore(config: server.config(prefix: base + "/pm2"))
        try await store.commit([.put("packages/a", data("a")), .put("deployments/d/clusters/x", data("u"))], if: [.absent("packages/a")])
        try await sibling.commit([.put("packages/b", data("b"))], if: [])

        #expect(try await EtcdRaw.keys(server.endpoint, prefix: base + "/") == [
            base + "/pm/deployments/d/clusters/x", base + "/pm/packages/a", base + "/pm2/packages/b",
        ])
        #expect(try await store.list(prefix: "", after: nil, limit: nil).map(\.key) == ["deployments/d/clusters/x", "packages/a"])
        #expect(try await store.get("packages/b") == nil)

        // Deleting the whole logical keyspace stays inside the prefix.
        try await store.commit([.deletePrefix("")], if: [])
        #expect(try await EtcdRaw.keys(server.endpoint, prefix: base + "/") == [base + "/pm2/packages/b"])
        await store.shutdown()
        await sibling.shutdown()
    }

    @Test func failsOverToTheNextEndpoint() async throws {
        let server = try await EtcdTestServer.shared.value
        let dead = "127.0.0.1:\(try FreePorts.take(1)[0])"
        let prefix = "/oaas-test/\(UUID().uuidString)"
        let store = try EtcdKVStore(config: server.config(prefix: prefix, endpoints: [dead, server.endpoint]))
        let revision = try await store.commit([.put("packages/p", data("v"))], if: [.absent("packages/p")])
        #expect(try await store.get("packages/p")?.revision == revision)
        try await store.health()
        await store.shutdown()

        var settings = server.config(prefix: prefix, endpoints: [dead])
        settings.timeout = .milliseconds(300)
        let unreachable = try EtcdKVStore(config: settings)
        await #expect {
            try await unreachable.get("packages/p")
        } throws: { error in
            guard case .unavailable(let message) = error as? KVStoreError else { return false }
            return message.contains(dead)
        }
        await unreachable.shutdown()
    }

    @Test func restartKeepsData() async throws {
        let server = try await EtcdTestServer.start()
        defer { server.destroy() }
        let store = try EtcdKVStore(config: server.config(prefix: "/oaas/pm"))
        let revision = try await store.commit([.put("packages/keep", data("v"))], if: [.absent("packages/keep")])
        try await server.restart()
        // The same client reconnects; the item keeps its value and revision.
        let item = try await store.get("packages/keep")
        #expect(item?.value == data("v") && item?.revision == revision)
        let next = try await store.commit([.put("packages/keep", data("w"))], if: [.revision("packages/keep", revision)])
        #expect(next > revision)
        await store.shutdown()
    }

    @Test func authenticatesAndReauthenticates() async throws {
        let server = try await EtcdTestServer.start()
        defer { server.destroy() }
        let store = try EtcdKVStore(config: server.config(prefix: "/oaas/pm", username: "root", password: "pw"))
        // Auth still off: the store finds out and goes on without a token.
        try await store.commit([.put("packages/a", data("1"))], if: [])

        try await EtcdRaw.enableAuth(server.endpoint, password: "pw")
        // Tokenless request refused ("user name is empty"): the store authenticates and retries.
        #expect(try await store.get("packages/a")?.value == data("1"))

        let anonymous = try EtcdKVStore(config: server.config(prefix: "/oaas/pm"))
        await #expect(throws: KVStoreError.self) { try await anonymous.get("packages/a") }
        let wrong = try EtcdKVStore(config: server.config(prefix: "/oaas/pm", username: "root", password: "nope"))
        await #expect {
            try await wrong.get("packages/a")
        } throws: { error in
            guard case .unavailable(let message) = error as? KVStoreError else { return false }
            return message.contains("authentication")
        }

        // Turning auth off and on revokes every token: the store's next request gets 401 and re-authenticates.
        let token = try await EtcdRaw.token(server.endpoint, password: "pw")
        #expect(try await EtcdRaw.post(server.endpoint, "/v3/auth/disable", [:], token: token).status == 200)
        #expect(try await EtcdRaw.post(server.endpoint, "/v3/auth/enable", [:]).status == 200)
        #expect(try await EtcdRaw.post(server.endpoint, "/v3/kv/range", ["key": EtcdRaw.b64("x")], token: token).status == 401)
        try await store.commit([.put("packages/a", data("2"))], if: [])
        #expect(try await store.get("packages/a")?.value == data("2"))

        for s in [store, anonymous, wrong] { await s.shutdown() }
    }

    @Test(.enabled(if: EtcdTestServer.openssl != nil, EtcdTestServer.tlsSkipReason))
    func talksTLS() async throws {
        let server = try await EtcdTestServer.start(tls: true)
        defer { server.destroy() }
        let hostPort = "127.0.0.1:\(server.clientPort)"
        let ca = server.certificate("ca.pem")
        let (cert, key) = (server.certificate("client.pem"), server.certificate("client.key"))
        // A bare host:port gets https:// when TLS is enabled; the CA verifies the server, the client certificate us.
        let verified = try EtcdKVStore(config: server.config(prefix: "/oaas/pm", endpoints: [hostPort]))
        try await verified.commit([.put("packages/t", data("tls"))], if: [])
        let insecure = try EtcdKVStore(config: server.config(prefix: "/oaas/pm", tls: .init(clientCertPath: cert, clientKeyPath: key, insecure: true)))
        #expect(try await insecure.get("packages/t")?.value == data("tls"))

        // Unknown CA, missing client certificate, plain HTTP: all refused.
        let untrusted = try EtcdKVStore(config: server.config(prefix: "/oaas/pm", tls: .init(clientCertPath: cert, clientKeyPath: key)))
        let anonymous = try EtcdKVStore(config: server.config(prefix: "/oaas/pm", tls: .init(caCertPath: ca)))
        // Go closes the connection, which looks transient: a short budget keeps the test quick.
        let plain = try EtcdKVStore(config: EtcdConfig(endpoints: ["http://\(hostPort)"], keyPrefix: "/oaas/pm", timeout: .milliseconds(300)))
        for store in [untrusted, anonymous, plain] {
            await #expect(throws: KVStoreError.self) { try await store.get("packages/t") }
        }
        for s in [verified, insecure, untrusted, anonymous, plain] { await s.shutdown() }
    }
}

/// `ETCD_*` parsing (no server needed).
@Suite struct EtcdConfigTests {
    @Test func defaults() throws {
        let env = EnvReader([:])
        let config = EtcdConfig(env: env)
        #expect(env.errors.isEmpty)
        #expect(config == EtcdConfig(endpoints: ["localhost:2379"], keyPrefix: "/oaas/pm", timeout: .seconds(30)))
    }

    @Test func readsEveryVariable() throws {
        let env = EnvReader([
            "ETCD_ENDPOINTS": " etcd-0:2379, https://etcd-1:2379/ ,",
            "ETCD_KEY_PREFIX": "/tenant/pm",
            "ETCD_TIMEOUT": "7",
            "ETCD_USERNAME": "pm",
            "ETCD_PASSWORD": "secret",
            "ETCD_TLS_ENABLED": "true",
            "ETCD_CA_CERT_PATH": "/ca.pem",
            "ETCD_CLIENT_CERT_PATH": "/c.pem",
            "ETCD_CLIENT_KEY_PATH": "/k.pem",
            "ETCD_TLS_INSECURE": "1",
        ])
        let config = EtcdConfig(env: env)
        #expect(env.errors.isEmpty)
        #expect(config.endpoints == ["etcd-0:2379", "https://etcd-1:2379/"])
        #expect(config.keyPrefix == "/tenant/pm")
        #expect(config.timeout == .seconds(7))
        #expect(config.username == "pm" && config.password == "secret")
        #expect(config.tls == EtcdConfig.TLS(caCertPath: "/ca.pem", clientCertPath: "/c.pem", clientKeyPath: "/k.pem", insecure: true))
    }

    @Test func reportsBadValues() throws {
        let env = EnvReader([
            "ETCD_ENDPOINTS": "ftp://x:1,ok:2379",
            "ETCD_TIMEOUT": "soon",
            "ETCD_USERNAME": "pm",
            "ETCD_TLS_ENABLED": "maybe",
        ])
        _ = EtcdConfig(env: env)
        #expect(env.errors.count == 4)
        #expect(env.errors.contains { $0.hasPrefix("ETCD_ENDPOINTS") && $0.contains("ftp://x:1") })
        #expect(env.errors.contains { $0.hasPrefix("ETCD_TIMEOUT") })
        #expect(env.errors.contains { $0.hasPrefix("ETCD_PASSWORD") })
        #expect(env.errors.contains { $0.hasPrefix("ETCD_TLS_ENABLED") })
    }

    @Test func endpointURLs() {
        #expect(EtcdConfig.endpointURL("localhost:2379", tls: false) == "http://localhost:2379")
        #expect(EtcdConfig.endpointURL("localhost:2379", tls: true) == "https://localhost:2379")
        #expect(EtcdConfig.endpointURL("http://10.0.0.1:2379/", tls: true) == "http://10.0.0.1:2379")
        #expect(EtcdConfig.endpointURL("http://host:2379/v3", tls: false) == nil)
        #expect(EtcdConfig.endpointURL("unix:///run/etcd.sock", tls: false) == nil)
        #expect(throws: ConfigurationError.self) { try EtcdKVStore(config: EtcdConfig(endpoints: [])) }
        #expect(throws: ConfigurationError.self) { try EtcdKVStore(config: EtcdConfig(tls: .init(caCertPath: "/nonexistent/ca.pem"))) }
    }
}
