import Foundation

/// Where and how to reach the API server: base URL, credentials, TLS material and the default namespace.
///
/// Build one with `KubeConfig.load()` (in-cluster first, then kubeconfig, control-plane spec §9.2), or explicitly with
/// `inCluster(…)`, `kubeconfig(path:)` or the memberwise initialiser (tests: plain `http://` servers work too).
public struct KubeConfig: Sendable {
    public enum Credentials: Sendable {
        case none
        case bearerToken(String)
        /// Re-read when the file changes: bound service-account tokens rotate under a running process.
        case tokenFile(TokenFile)
        case basic(username: String, password: String)
    }

    /// Base URL without a trailing slash: `https://10.0.0.1:443`, `http://127.0.0.1:38211`.
    public var server: String
    /// The namespace of the current context or the pod; `default` when neither says.
    public var namespace: String
    public var credentials: Credentials
    public var certificateAuthorityPEM: [UInt8]?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    /// Where this configuration came from, for logs (`in-cluster`, a kubeconfig path).
    public var source: String

    public init(
        server: String, namespace: String = "default", credentials: Credentials = .none,
        certificateAuthorityPEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false, source: String = "explicit"
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.namespace = namespace
        self.credentials = credentials
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.source = source
    }

    /// The mounted service-account directory of every pod.
    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In-cluster when `KUBERNETES_SERVICE_HOST` is set, else the kubeconfig named by `KUBECONFIG` (first path) or
    /// `~/.kube/config`, current context.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = defaultServiceAccountDirectory
    ) throws -> KubeConfig {
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            return try inCluster(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
        }
        return try kubeconfig(path: defaultKubeconfigPath(environment: environment))
    }

    /// `KUBECONFIG`'s first non-empty entry, else `$HOME/.kube/config`.
    public static func defaultKubeconfigPath(environment: [String: String]) throws -> String {
        if let list = environment["KUBECONFIG"],
           let first = list.split(separator: ":", omittingEmptySubsequences: true).first {
            return expandHome(String(first), environment: environment)
        }
        guard let home = environment["HOME"], !home.isEmpty else {
            throw KubeError.configuration("not in a cluster, KUBECONFIG is unset and HOME is unknown")
        }
        return home + "/.kube/config"
    }

    static func expandHome(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home = environment["HOME"] else { return path }
        return home + path.dropFirst()
    }
}

// MARK: In cluster

extension KubeConfig {
    /// The pod's view: `KUBERNETES_SERVICE_HOST`/`_PORT`, and `token`, `ca.crt`, `namespace` from
    /// `serviceAccountDirectory` (injectable for tests).
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = defaultServiceAccountDirectory
    ) throws -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw KubeError.configuration("KUBERNETES_SERVICE_HOST is not set: not running in a cluster")
        }
        let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
        guard let portNumber = Int(port), (1...65535).contains(portNumber) else {
            throw KubeError.configuration("KUBERNETES_SERVICE_PORT is not a port: \(port)")
        }
        // An IPv6 service address needs brackets in a URL.
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let directory = serviceAccountDirectory.hasSuffix("/") ? String(serviceAccountDirectory.dropLast())
            : serviceAccountDirectory
        let tokenFile = TokenFile(path: directory + "/token")
        // Fail now rather than on the first request when the mount is missing.
        _ = try tokenFile.token()
        let ca = try readFile(directory + "/ca.crt", what: "service-account CA")
        let namespace = (try? readFile(directory + "/namespace", what: "namespace"))
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        return KubeConfig(
            server: "https://\(hostPart):\(portNumber)",
            namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            credentials: .tokenFile(tokenFile),
            certificateAuthorityPEM: ca,
            source: "in-cluster"
        )
    }

    static func readFile(_ path: String, what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeError.configuration("cannot read \(what) file \(path)")
        }
        return Array(data)
    }
}
