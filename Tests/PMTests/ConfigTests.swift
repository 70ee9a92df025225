import Foundation
import OaaSCore
import PM
import Testing

/// PM configuration from the environment (spec §7): multi-CRM envs, defaults, and the problems that exit 2.
@Suite struct ConfigTests {
    private func read(_ values: [String: String], defaults: PMConfig.Defaults = .init()) -> (PMConfig, [String]) {
        let env = EnvReader(values)
        let config = PMConfig(env: env, defaults: defaults)
        return (config, env.errors)
    }

    @Test func defaultsMatchTheSpec() {
        let (config, problems) = read([:])
        #expect(problems.isEmpty)
        #expect(config.host == "0.0.0.0")
        #expect(config.port == 8080)
        #expect(config.storage == .lmdb(path: ".oaas/pm", mapSizeBytes: 1_073_741_824))
        #expect(config.envs.isEmpty)
        #expect(config.defaultEnv == nil)
        #expect(config.healthCacheTTL == .seconds(15))
        #expect(config.healthCheckInterval == .seconds(60))
        #expect(config.deployMaxRetries == 2)
        #expect(!config.rollbackOnPartial)
        #expect(config.reconcileInterval == .seconds(30))
        #expect(!config.deleteCascade)
        #expect(config.assumedEnvAvailability == 0.99)
        #expect(config.maxBodyBytes == 8_388_608)
        #expect(config.corsOrigins == ["*"])
        #expect(config.metricsEnabled)
    }

    @Test func defaultURLAloneIsTheEnvNamedDefault() {
        let (config, problems) = read(["CRM_DEFAULT_URL": "http://crm:8088", "CRM_DEFAULT_TIMEOUT": "7"])
        #expect(problems.isEmpty)
        #expect(config.envs.map(\.name) == ["default"])
        #expect(config.envs.first?.url == "http://crm:8088")
        #expect(config.envs.first?.timeout == .seconds(7))
        #expect(config.envs.first?.tls == nil)
        #expect(config.defaultEnv == "default")
    }

    @Test func clusterListWithPerEnvVariablesIncludingTLS() {
        let (config, problems) = read([
            "CRM_CLUSTERS": "edge-1, cloud",
            "CRM_CLUSTER_EDGE_1_URL": "http://edge:8088",
            "CRM_CLUSTER_EDGE_1_TIMEOUT": "5",
            "CRM_CLUSTER_EDGE_1_RETRY_ATTEMPTS": "7",
            "CRM_CLUSTER_EDGE_1_GATEWAY_URL": "http://edge-gw:8080",
            "CRM_CLUSTER_CLOUD_URL": "https://cloud:8443",
            "CRM_CLUSTER_CLOUD_TLS_CA_CERT_PATH": "/etc/ca.pem",
            "CRM_CLUSTER_CLOUD_TLS_CLIENT_CERT_PATH": "/etc/client.pem",
            "CRM_CLUSTER_CLOUD_TLS_CLIENT_KEY_PATH": "/etc/client.key",
            "CRM_CLUSTER_CLOUD_TLS_INSECURE": "true",
        ])
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.envs.map(\.name) == ["cloud", "edge-1"])
        let edge = config.envs.first { $0.name == "edge-1" }
        #expect(edge?.timeout == .seconds(5))
        #expect(edge?.retryAttempts == 7)
        #expect(edge?.gatewayURL == "http://edge-gw:8080")
        #expect(edge?.tls == nil)
        let cloud = config.envs.first { $0.name == "cloud" }
        #expect(cloud?.tls == CRMEnvConfig.TLS(caCertPath: "/etc/ca.pem", clientCertPath: "/etc/client.pem", clientKeyPath: "/etc/client.key", insecure: true))
        // No `default` env: the first by name.
        #expect(config.defaultEnv == "cloud")
    }

    @Test func jsonBeatsTheListAndAcceptsBothShapes() {
        let (array, problems) = read([
            "CRM_CLUSTERS_JSON": #"[{"name":"oaas-1","url":"http://crm-1:8088","timeout":12,"retry_attempts":2,"gateway_url":"http://gw:8080"},{"name":"default","url":"https://crm-2:8443","tls":{"ca_cert":"/ca.pem","insecure":true},"api_key":"x"}]"#,
            "CRM_CLUSTERS": "ignored",
            "CRM_CLUSTER_IGNORED_URL": "http://nowhere:1",
        ])
        #expect(problems.isEmpty, "\(problems)")
        #expect(array.envs.map(\.name) == ["default", "oaas-1"])
        #expect(array.envs.last?.timeout == .seconds(12))
        #expect(array.envs.last?.retryAttempts == 2)
        #expect(array.envs.first?.tls == CRMEnvConfig.TLS(caCertPath: "/ca.pem", insecure: true))
        #expect(array.defaultEnv == "default")
        #expect(array.warnings.contains { $0.contains("CRM_CLUSTERS is ignored") })
        #expect(array.warnings.contains { $0.contains("api_key") })

        let (object, objectProblems) = read([
            "CRM_CLUSTERS_JSON": #"{"b":{"url":"http://b:1"},"a":{"url":"http://a:1"}}"#,
            "CRM_DEFAULT_CLUSTER": "b",
        ])
        #expect(objectProblems.isEmpty)
        #expect(object.envs.map(\.name) == ["a", "b"])
        #expect(object.defaultEnv == "b")
    }

    @Test(arguments: [
        (#"[{"url":"http://a:1"}]"#, "[0].name: missing"),
        (#"[{"name":"bad name","url":"http://a:1"}]"#, "[0].name: 'bad name' is not a valid env name"),
        (#"[{"name":"a","url":"http://a:1"},{"name":"a","url":"http://b:1"}]"#, "[1].name: duplicate env 'a'"),
        (#"[{"name":"a","url":"ftp://a"}]"#, "[0].url:"),
        (#"[{"name":"a"}]"#, "[0].url: missing"),
        (#"[]"#, "empty"),
        (#"{"#, "not valid JSON"),
        (#"[{"name":"a","url":"http://a:1","timeout":"soon"}]"#, "[0].timeout"),
    ])
    func badClusterJSONIsAnExit2Problem(_ json: String, _ expected: String) {
        let (_, problems) = read(["CRM_CLUSTERS_JSON": json])
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("CRM_CLUSTERS_JSON: ") == true)
        #expect(problems.first?.contains(expected) == true, "\(problems)")
    }

    @Test func badListAndValuesNameTheirVariable() {
        let (_, problems) = read([
            "CRM_CLUSTERS": "a,a,b",
            "CRM_CLUSTER_A_URL": "http://a:1",
            "SERVER_PORT": "99999",
            "STORAGE_TYPE": "mongo",
            "DEPLOY_MAX_RETRIES": "many",
            "PM_ASSUMED_ENV_AVAILABILITY": "1.5",
            "DEPLOY_ROLLBACK_ON_PARTIAL": "maybe",
        ])
        for variable in ["CRM_CLUSTERS: duplicate env 'a'", "CRM_CLUSTER_B_URL: missing", "SERVER_PORT", "STORAGE_TYPE: 'mongo'", "DEPLOY_MAX_RETRIES", "PM_ASSUMED_ENV_AVAILABILITY", "DEPLOY_ROLLBACK_ON_PARTIAL"] {
            #expect(problems.contains { $0.hasPrefix(variable) }, "\(variable) in \(problems)")
        }
    }

    @Test func storageAndDevDefaults() {
        let (etcd, problems) = read(["STORAGE_TYPE": "etcd", "ETCD_ENDPOINTS": "e1:2379,https://e2:2379", "ETCD_KEY_PREFIX": "/x"])
        #expect(problems.isEmpty)
        guard case .etcd(let settings) = etcd.storage else {
            Issue.record("expected etcd storage")
            return
        }
        #expect(settings.endpoints == ["e1:2379", "https://e2:2379"])
        #expect(settings.keyPrefix == "/x")

        let dev = PMConfig.Defaults(host: "127.0.0.1", port: 9090, listenerFromEnv: false, storagePath: "/tmp/dev/pm", memoryStorage: true)
        let (config, devProblems) = read(["SERVER_PORT": "1234", "STORAGE_TYPE": "lmdb"], defaults: dev)
        #expect(devProblems.isEmpty)
        #expect(config.port == 9090)
        #expect(config.host == "127.0.0.1")
        #expect(config.storage == .memory)
        #expect(read(["SERVER_WORKERS": "4", "CRM_CIRCUIT_BREAKER_THRESHOLD": "5"]).0.warnings.count == 2)
    }

    @Test func unknownDefaultEnvAndMissingTLSFilesStopTheRole() async throws {
        let container = ServiceContainer(logger: LogCapture().logger(), env: EnvReader([:]), metrics: .init(), devMode: false)
        var config = PMConfig(envs: [CRMEnvConfig(name: "a", url: "http://127.0.0.1:1")])
        config.defaultEnv = "zzz"
        await #expect(throws: ConfigurationError.self) { try await PMRole(config: config, container: container, metricsFactory: TestMetrics()) }
        let tls = PMConfig(envs: [CRMEnvConfig(name: "a", url: "https://127.0.0.1:1", tls: .init(caCertPath: "/nonexistent/ca.pem"))])
        await #expect {
            try await PMRole(config: tls, container: container, metricsFactory: TestMetrics())
        } throws: { error in
            (error as? ConfigurationError)?.description.contains("/nonexistent/ca.pem") == true
        }
        await container.shutdown()
    }
}
