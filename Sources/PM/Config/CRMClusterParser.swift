import Foundation
import OaaSCore

/// Reads the environments PM deploys to (control-plane spec §7): `CRM_CLUSTERS_JSON`, else `CRM_CLUSTERS` with
/// per-env `CRM_CLUSTER_<NAME>_*` variables, else `CRM_DEFAULT_URL` as the single env `default`. Every bad
/// entry is reported to the reader with the variable and, for JSON, the offending index.
struct CRMClusterParser {
    let env: EnvReader
    let defaultTimeout: Duration
    let defaultRetryAttempts: Int
    private(set) var warnings: [String] = []

    init(env: EnvReader) {
        self.env = env
        defaultTimeout = .seconds(env.int("CRM_DEFAULT_TIMEOUT", default: 30, range: 1...86_400))
        defaultRetryAttempts = env.int("CRM_DEFAULT_RETRY_ATTEMPTS", default: CRMEnvConfig.defaultRetryAttempts, range: 1...100)
    }

    /// The configured envs, sorted by name.
    mutating func parse() -> [CRMEnvConfig] {
        let envs: [CRMEnvConfig]
        if let (variable, raw) = env.lookup("CRM_CLUSTERS_JSON") {
            if env.lookup("CRM_CLUSTERS") != nil { warnings.append("CRM_CLUSTERS is ignored: CRM_CLUSTERS_JSON takes precedence") }
            envs = parseJSON(raw, variable: variable)
        } else if let (_, raw) = env.lookup("CRM_CLUSTERS") {
            envs = parseList(raw)
        } else if let (variable, url) = env.lookup("CRM_DEFAULT_URL") {
            envs = checkURL(url, problem: "\(variable): ").map { [CRMEnvConfig(name: "default", url: url, timeout: defaultTimeout, retryAttempts: defaultRetryAttempts, tls: $0 ? CRMEnvConfig.TLS() : nil)] } ?? []
        } else {
            envs = []
        }
        return envs.sorted { $0.name < $1.name }
    }

    /// `CRM_DEFAULT_CLUSTER`, else the env named `default`, else the first by name.
    static func defaultEnv(explicit: String?, names: [String]) -> String? {
        if let explicit { return explicit }
        if names.contains("default") { return "default" }
        return names.sorted().first
    }

    // MARK: CRM_CLUSTERS_JSON

    private mutating func parseJSON(_ raw: String, variable: String) -> [CRMEnvConfig] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])
        } catch {
            env.report("\(variable): not valid JSON (\(Self.reason(error)))")
            return []
        }
        var entries: [(label: String, name: String?, body: [String: Any])] = []
        if let array = root as? [Any] {
            for (index, element) in array.enumerated() {
                guard let object = element as? [String: Any] else {
                    env.report("\(variable): [\(index)]: expected an object")
                    continue
                }
                entries.append(("[\(index)]", object["name"].map { ($0 as? String) ?? "" }, object))
            }
            if array.isEmpty { env.report("\(variable): the list of clusters is empty") }
        } else if let object = root as? [String: Any] {
            for name in object.keys.sorted() {
                guard let body = object[name] as? [String: Any] else {
                    env.report("\(variable): [\"\(name)\"]: expected an object")
                    continue
                }
                entries.append(("[\"\(name)\"]", name, body))
            }
            if object.isEmpty { env.report("\(variable): the map of clusters is empty") }
        } else {
            env.report("\(variable): expected an array of clusters or an object keyed by cluster name")
            return []
        }
        var result: [CRMEnvConfig] = []
        var seen: [String: String] = [:]
        for entry in entries {
            let at = "\(variable): \(entry.label)"
            guard let name = entry.name else {
                env.report("\(at).name: missing")
                continue
            }
            guard CRMEnvConfig.isValidName(name) else {
                env.report("\(at).name: '\(name)' is not a valid env name (^[A-Za-z0-9_-]+$)")
                continue
            }
            if let first = seen[name] {
                env.report("\(at).name: duplicate env '\(name)' (first at \(first))")
                continue
            }
            seen[name] = entry.label
            if let config = jsonEntry(name: name, entry.body, at: at) { result.append(config) }
        }
        return result
    }

    private mutating func jsonEntry(name: String, _ body: [String: Any], at: String) -> CRMEnvConfig? {
        let known: Set<String> = ["name", "url", "timeout", "retry_attempts", "gateway_url", "tls"]
        for key in body.keys.sorted() where !known.contains(key) {
            warnings.append(key == "api_key" ? "\(at).api_key is not used (no authentication in v1) and is ignored" : "\(at).\(key): unknown field ignored")
        }
        guard let url = body["url"] as? String, !url.isEmpty else {
            env.report("\(at).url: missing")
            return nil
        }
        guard let secure = checkURL(url, problem: "\(at).url: ") else { return nil }
        var config = CRMEnvConfig(name: name, url: url, timeout: defaultTimeout, retryAttempts: defaultRetryAttempts)
        if let value = body["timeout"] {
            guard let seconds = Self.integer(value), (1...86_400).contains(seconds) else {
                env.report("\(at).timeout: expected whole seconds in 1...86400")
                return nil
            }
            config.timeout = .seconds(seconds)
        }
        if let value = body["retry_attempts"] {
            guard let attempts = Self.integer(value), (1...100).contains(attempts) else {
                env.report("\(at).retry_attempts: expected an integer in 1...100")
                return nil
            }
            config.retryAttempts = attempts
        }
        if let value = body["gateway_url"] {
            guard let gateway = value as? String, CRMEnvConfig.endpoint(of: gateway) != nil || URL(string: gateway)?.host != nil else {
                env.report("\(at).gateway_url: expected an http(s) URL")
                return nil
            }
            config.gatewayURL = gateway
        }
        if let value = body["tls"] {
            guard let tls = value as? [String: Any] else {
                env.report("\(at).tls: expected an object")
                return nil
            }
            config.tls = CRMEnvConfig.TLS(
                caCertPath: tls["ca_cert"] as? String,
                clientCertPath: tls["client_cert"] as? String,
                clientKeyPath: tls["client_key"] as? String,
                insecure: (tls["insecure"] as? Bool) ?? false
            )
        } else if secure {
            config.tls = CRMEnvConfig.TLS()
        }
        return checkTLS(config, at: "\(at).tls")
    }

    // MARK: CRM_CLUSTERS + CRM_CLUSTER_<NAME>_*

    private mutating func parseList(_ raw: String) -> [CRMEnvConfig] {
        var result: [CRMEnvConfig] = []
        var seen = Set<String>()
        let names = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if names.isEmpty { env.report("CRM_CLUSTERS: no cluster named") }
        for name in names {
            guard CRMEnvConfig.isValidName(name) else {
                env.report("CRM_CLUSTERS: '\(name)' is not a valid env name (^[A-Za-z0-9_-]+$)")
                continue
            }
            guard seen.insert(name).inserted else {
                env.report("CRM_CLUSTERS: duplicate env '\(name)'")
                continue
            }
            let prefix = "CRM_CLUSTER_\(Self.variableName(name))_"
            guard let (urlVariable, url) = env.lookup(prefix + "URL") else {
                env.report("\(prefix)URL: missing (needed for env '\(name)' of CRM_CLUSTERS)")
                continue
            }
            guard let secure = checkURL(url, problem: "\(urlVariable): ") else { continue }
            var config = CRMEnvConfig(
                name: name,
                url: url,
                timeout: .seconds(env.int(prefix + "TIMEOUT", default: Self.seconds(defaultTimeout), range: 1...86_400)),
                retryAttempts: env.int(prefix + "RETRY_ATTEMPTS", default: defaultRetryAttempts, range: 1...100),
                gatewayURL: env.string(prefix + "GATEWAY_URL")
            )
            if env.bool(prefix + "TLS_ENABLED", default: secure) {
                config.tls = CRMEnvConfig.TLS(
                    caCertPath: env.string(prefix + "TLS_CA_CERT_PATH"),
                    clientCertPath: env.string(prefix + "TLS_CLIENT_CERT_PATH"),
                    clientKeyPath: env.string(prefix + "TLS_CLIENT_KEY_PATH"),
                    insecure: env.bool(prefix + "TLS_INSECURE", default: false)
                )
            }
            if let checked = checkTLS(config, at: prefix + "TLS") { result.append(checked) }
        }
        return result
    }

    /// `<NAME>` of the per-env variables: uppercase, every non-alphanumeric character `_`.
    static func variableName(_ name: String) -> String {
        String(name.uppercased().unicodeScalars.map { scalar -> Character in
            ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) ? Character(scalar) : "_"
        })
    }

    // MARK: Helpers

    /// Whether the URL is TLS; nil (and a reported problem) when it is not an http(s)://host[:port] URL.
    private func checkURL(_ url: String, problem prefix: String) -> Bool? {
        guard let endpoint = CRMEnvConfig.endpoint(of: url) else {
            env.report("\(prefix)'\(url)' is not an http://host:port (h2c) or https://host:port (TLS) URL")
            return nil
        }
        return endpoint.secure
    }

    private func checkTLS(_ config: CRMEnvConfig, at: String) -> CRMEnvConfig? {
        guard let tls = config.tls else { return config }
        if (tls.clientCertPath == nil) != (tls.clientKeyPath == nil) {
            env.report("\(at): a client certificate and its key must be given together (env '\(config.name)')")
            return nil
        }
        return config
    }

    /// Whole numbers (JSON numbers or digit strings); booleans are not numbers here.
    private static func integer(_ value: Any) -> Int? {
        if value is Bool { return nil }
        if let number = value as? Int { return number }
        if let text = value as? String { return Int(text.trimmingCharacters(in: .whitespaces)) }
        return nil
    }

    private static func seconds(_ duration: Duration) -> Int { Int(duration.components.seconds) }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error.localizedDescription)"
    }
}
