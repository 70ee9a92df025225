import Foundation
import Kube
import KubeTestServer
import Testing

/// A throwaway self-signed P-256 certificate and key, generated for these tests only.
enum TestPEM {
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBgjCCASegAwIBAgIUIt/V9gbbwVQQ0CV3jyf1vYYkLjcwCgYIKoZIzj0EAwIw
        FTETMBEGA1UEAwwKa3ViZS10ZXN0czAgFw0yNjExMjIyMjE5NDhaGA8yMTI2MTAy
        OTIyMTk0OFowFTETMBEGA1UEAwwKa3ViZS10ZXN0czBZMBMGByqGSM49AgEGCCqG
        SM49AwEHA0IABAwNTkCT7L/VYZXDjpEslaMQ9I2XlGewucEL4XkkEAZpO9bmyhn2
        M6zeyIL04D2RwfleAsflCI4NooDRerHuDdyjUzBRMB0GA1UdDgQWBBQlRR3bLlgK
        Cm/VwYPDSGMOo3w3zDAfBgNVHSMEGDAWgBQlRR3bLlgKCm/VwYPDSGMOo3w3zDAP
        BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCeLapk7Ukud3Q68Xfh
        EQFw7bNp4XVp//CCz7seFzONjgIhALqWr3AtzOP4QtsrSjAolNVsc0jr6sth21JB
        62xArEDn
        -----END CERTIFICATE-----

        """
    static let key = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghg76bXrTO4ACrZPa
        rkIGEyMWtWdGTv4T/TPUw1xw/SehRANCAAQMDU5Ak+y/1WGVw46RLJWjEPSNl5Rn
        sLnBC+F5JBAGaTvW5soZ9jOs3siC9OA9kcH5XgLH5QiODaKA0Xqx7g3c
        -----END PRIVATE KEY-----

        """
    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
}

/// A fresh temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kube-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

@Suite("Configuration: kubeconfig and in-cluster")
struct ConfigTests {
    @Test func kubeconfigWithInlineData() async throws {
        let yaml = """
            apiVersion: v1
            kind: Config
            current-context: prod
            clusters:
            - name: dev
              cluster: {server: "http://127.0.0.1:1"}
            - name: prod
              cluster:
                server: https://10.1.2.3:6443/
                certificate-authority-data: \(TestPEM.base64(TestPEM.certificate))
            contexts:
            - name: dev
              context: {cluster: dev, user: nobody}
            - name: prod
              context: {cluster: prod, user: admin, namespace: oaas-1}
            users:
            - name: nobody
              user: {}
            - name: admin
              user:
                client-certificate-data: \(TestPEM.base64(TestPEM.certificate))
                client-key-data: \(TestPEM.base64(TestPEM.key))
            """
        let config = try KubeConfig.kubeconfig(yaml: yaml, baseDirectory: "/nonexistent")
        #expect(config.server == "https://10.1.2.3:6443")
        #expect(config.namespace == "oaas-1")
        #expect(config.certificateAuthorityPEM == Array(TestPEM.certificate.utf8))
        #expect(config.clientCertificatePEM == Array(TestPEM.certificate.utf8))
        #expect(config.clientKeyPEM == Array(TestPEM.key.utf8))
        #expect(config.insecureSkipTLSVerify == false)
        guard case .none = config.credentials else {
            Issue.record("expected no bearer credentials")
            return
        }
        // The TLS material is usable.
        let client = try KubeClient(configuration: config, logger: quietLogger())
        try await client.shutdown()

        let dev = try KubeConfig.kubeconfig(yaml: yaml, baseDirectory: "/nonexistent", context: "dev")
        #expect(dev.server == "http://127.0.0.1:1")
        #expect(dev.namespace == "default")
    }

    @Test func kubeconfigWithFilesAndTokenFile() async throws {
        try await withTemporaryDirectory { directory in
            try write(TestPEM.certificate, to: directory + "/ca.crt")
            try write(TestPEM.certificate, to: directory + "/client.crt")
            try write(TestPEM.key, to: directory + "/client.key")
            try write("file-token\n", to: directory + "/token")
            try write("""
                apiVersion: v1
                kind: Config
                current-context: c
                clusters:
                - name: k
                  cluster: {server: "https://kube.example:443", certificate-authority: ca.crt, insecure-skip-tls-verify: true}
                contexts:
                - name: c
                  context: {cluster: k, user: u, namespace: ns}
                users:
                - name: u
                  user: {tokenFile: token, client-certificate: client.crt, client-key: \(directory)/client.key}
                """, to: directory + "/config")
            let config = try KubeConfig.load(environment: ["KUBECONFIG": "\(directory)/config:/nonexistent/other"])
            #expect(config.server == "https://kube.example:443")
            #expect(config.source == "\(directory)/config")
            #expect(config.insecureSkipTLSVerify)
            #expect(config.certificateAuthorityPEM == Array(TestPEM.certificate.utf8))
            #expect(config.clientKeyPEM == Array(TestPEM.key.utf8))
            guard case .tokenFile(let file) = config.credentials else {
                Issue.record("expected a token file")
                return
            }
            #expect(file.path == directory + "/token")
            #expect(try file.token() == "file-token")

            // Without KUBECONFIG: $HOME/.kube/config.
            try FileManager.default.createDirectory(atPath: directory + "/.kube", withIntermediateDirectories: true)
            try write("""
                current-context: c
                clusters: [{name: k, cluster: {server: "http://127.0.0.1:8001"}}]
                contexts: [{name: c, context: {cluster: k, namespace: ns}}]
                """, to: directory + "/.kube/config")
            let fromHome = try KubeConfig.load(environment: ["HOME": directory])
            #expect(fromHome.namespace == "ns")
        }
    }

    @Test func kubeconfigErrors() async throws {
        func failure(_ yaml: String) -> String? {
            do {
                _ = try KubeConfig.kubeconfig(yaml: yaml, baseDirectory: "/")
                return nil
            } catch let error as KubeError {
                guard case .configuration(let message) = error else { return "wrong case: \(error)" }
                return message
            } catch {
                return "wrong error: \(error)"
            }
        }
        let base = """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://x"}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            """
        #expect(failure(base + "\nusers: [{name: u, user: {exec: {command: aws}}}]")?.contains("exec") == true)
        #expect(failure(base + "\nusers: [{name: other, user: {}}]")?.contains("user u") == true)
        #expect(failure(base + "\nusers: [{name: u, user: {client-certificate-data: \(TestPEM.base64("x"))}}]")?
            .contains("client key") == true)
        #expect(failure("current-context: missing\ncontexts: []")?.contains("missing") == true)
        #expect(failure(": not yaml : [")?.isEmpty == false)

        let broken = KubeConfig(server: "https://x", certificateAuthorityPEM: Array("not a pem".utf8))
        #expect(throws: KubeError.self) { _ = try KubeClient(configuration: broken) }
        #expect(throws: KubeError.self) { _ = try KubeClient(configuration: KubeConfig(server: "ftp://x")) }
    }

    private func serviceAccount(_ directory: String, token: String) throws {
        try write(token, to: directory + "/token")
        try write(TestPEM.certificate, to: directory + "/ca.crt")
        try write("oaas-system\n", to: directory + "/namespace")
    }

    @Test func inClusterFromAFakeServiceAccountDirectory() async throws {
        try await withTemporaryDirectory { directory in
            try serviceAccount(directory, token: "sa-token")
            let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443",
                               "KUBECONFIG": "/nonexistent"]
            let config = try KubeConfig.load(environment: environment, serviceAccountDirectory: directory)
            #expect(config.server == "https://10.96.0.1:443")
            #expect(config.namespace == "oaas-system")
            #expect(config.source == "in-cluster")
            #expect(config.certificateAuthorityPEM == Array(TestPEM.certificate.utf8))
            guard case .tokenFile(let file) = config.credentials else {
                Issue.record("expected a token file")
                return
            }
            #expect(try file.token() == "sa-token")

            let ipv6 = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1"],
                                                serviceAccountDirectory: directory)
            #expect(ipv6.server == "https://[fd00::1]:443")
            #expect(throws: KubeError.self) {
                _ = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h"],
                                             serviceAccountDirectory: directory + "/missing")
            }
            #expect(throws: KubeError.self) {
                _ = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h",
                                                           "KUBERNETES_SERVICE_PORT": "http"],
                                             serviceAccountDirectory: directory)
            }
        }
    }

    @Test func rotatedTokensAreUsed() async throws {
        try await withTemporaryDirectory { directory in
            // Like the kubelet: `token` → `..data/token`, rotation swaps the `..data` symlink.
            let manager = FileManager.default
            try manager.createDirectory(atPath: directory + "/v1", withIntermediateDirectories: true)
            try manager.createDirectory(atPath: directory + "/v2", withIntermediateDirectories: true)
            try write("first", to: directory + "/v1/token")
            try write("second", to: directory + "/v2/token")
            try manager.createSymbolicLink(atPath: directory + "/..data", withDestinationPath: "v1")
            try manager.createSymbolicLink(atPath: directory + "/token", withDestinationPath: "..data/token")
            try write(TestPEM.certificate, to: directory + "/ca.crt")

            var config = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"],
                                                  serviceAccountDirectory: directory)
            try await KubeTestServer.withRunning(quietServer()) { server in
                config.server = server.url
                let client = try KubeClient(configuration: config, logger: quietLogger())
                server.setRequiredToken("first")
                _ = try await client.list(.pods, namespace: "default")
                server.setRequiredToken("second")
                await expectKubeError(401) { _ = try await client.list(.pods, namespace: "default") }

                try manager.removeItem(atPath: directory + "/..data")
                try manager.createSymbolicLink(atPath: directory + "/..data", withDestinationPath: "v2")
                _ = try await client.list(.pods, namespace: "default")

                // A plain rewrite in place is noticed too.
                try write("third", to: directory + "/v2/token")
                server.setRequiredToken("third")
                _ = try await client.list(.pods, namespace: "default")
                try await client.shutdown()
            }
        }
    }

    @Test func kubeconfigWrittenByTheTestServerWorks() async throws {
        try await withTemporaryDirectory { directory in
            try await KubeTestServer.withRunning(quietServer(), { server in
                server.setRequiredToken("crm-token")
                try server.writeKubeconfig(to: directory + "/kubeconfig", namespace: "oaas-1", token: "crm-token")
                let config = try KubeConfig.load(environment: ["KUBECONFIG": directory + "/kubeconfig"])
                #expect(config.server == server.url)
                #expect(config.namespace == "oaas-1")
                let client = try KubeClient(configuration: config, logger: quietLogger())
                let created = try await client.create(.configMaps, KubeObject(.configMaps, name: "x"))
                #expect(created.namespace == "oaas-1")
                try await client.shutdown()
            })
        }
    }
}

@Suite("Model: JSON, time, objects")
struct ModelTests {
    @Test func jsonValueRoundTrips() throws {
        let value = try JSONValue(jsonData: Data(#"{"i":3,"d":1.5,"b":true,"n":null,"s":"x/y","a":[1,"2"]}"#.utf8))
        #expect(value["i"] == .int(3))
        #expect(value["d"] == .double(1.5))
        #expect(value["b"] == .bool(true))
        #expect(value["n"] == .null)
        #expect(value["a"]?[1] == "2")
        #expect(value.jsonString() == #"{"a":[1,"2"],"b":true,"d":1.5,"i":3,"n":null,"s":"x/y"}"#)
        var edited = value
        edited.setValue("deep", at: "x", "y", "z")
        #expect(edited.value(at: "x", "y", "z") == "deep")
        edited.setValue(nil, at: "x", "y")
        #expect(edited["x"] == [:])
        #expect(throws: KubeError.self) { _ = try JSONValue(jsonData: Data("{".utf8)) }
        #expect(throws: KubeError.self) { _ = try KubeObject(json: [1, 2]) }
    }

    @Test func kubeTimeFormatsAndParses() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
        #expect(KubeTime.format(date) == "2023-11-14T22:13:20Z")
        #expect(KubeTime.formatMicro(date) == "2023-11-14T22:13:20.123456Z")
        let parsed = try #require(KubeTime.parse("2023-11-14T22:13:20.123456Z"))
        #expect(abs(parsed.timeIntervalSince1970 - 1_700_000_000.123456) < 0.000_01)
        #expect(KubeTime.parse("2023-11-14T23:13:20+01:00") == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(KubeTime.parse("1969-12-31T23:59:59Z") == Date(timeIntervalSince1970: -1))
        #expect(KubeTime.parse("2024-02-29T00:00:00Z") != nil)
        #expect(KubeTime.parse("yesterday") == nil)
        #expect(KubeTime.parse("2023-11-14T22:13:20") == nil)
    }

    @Test func objectMetadataHelpers() throws {
        var object = KubeObject(.deployments, name: "d", namespace: "ns")
        object.labels = ["a": "b"]
        object.annotations = ["oaas.io/applied-hash": "123"]
        object.finalizers = ["oaas.io/finalizer"]
        object.ownerReferences = [OwnerReference(apiVersion: "oaas.io/v1alpha1", kind: "ClassRuntime", name: "cr",
                                                 uid: "u-1", controller: true, blockOwnerDeletion: true)]
        #expect(object.apiVersion == "apps/v1" && object.kind == "Deployment")
        #expect(object.value(at: "metadata", "labels", "a") == "b")
        #expect(object.ownerReferences.first?.uid == "u-1")
        #expect(object.value(at: "metadata", "ownerReferences")?[0]?["controller"] == true)
        #expect(object.finalizers == ["oaas.io/finalizer"])
        #expect(object.ownerReference() == nil)
        object.labels = [:]
        #expect(object.value(at: "metadata", "labels") == nil)
        #expect(KubeResource.classRuntimes.path(namespace: "n", name: "x", subresource: "status")
            == "/apis/oaas.io/v1alpha1/namespaces/n/classruntimes/x/status")
        #expect(KubeResource.namespaces.path(namespace: "ignored", name: "n") == "/api/v1/namespaces/n")
    }
}
