/// The logical keys of PM's storage (control-plane spec §6). Names and keys never contain `/`, so a key with a
/// further `/` under `deployments/` is never a deployment record.
enum StoreKeys {
    static let packages = "packages/"
    static let deployments = "deployments/"
    static let schema = "meta/schema"
    static let health = "health"
    static let schemaValue = #"{"version":1}"#

    static func package(_ name: String) -> String { packages + name }
    static func deployment(_ key: String) -> String { deployments + key }
    /// Everything owned by a deployment below its record: env mappings and the user's spec.
    static func deploymentChildren(_ key: String) -> String { deployments + key + "/" }
    static func mappings(_ key: String) -> String { deploymentChildren(key) + "clusters/" }
    static func mapping(_ key: String, env: String) -> String { mappings(key) + env }
    /// The deployment as the user wrote it (OaaS-Swift addition): package updates re-derive from it.
    static func userSpec(_ key: String) -> String { deploymentChildren(key) + "spec" }
    static func packageDeployments(_ package: String) -> String { "index/package-deployments/\(package)/" }
    static func packageDeployment(_ package: String, _ key: String) -> String { packageDeployments(package) + key }
    static func dependents(_ dependency: String) -> String { "index/dependents/\(dependency)/" }
    static func dependent(_ dependency: String, _ package: String) -> String { dependents(dependency) + package }

    /// The last path segment of `key` under `prefix`.
    static func name(_ key: String, under prefix: String) -> String { String(key.dropFirst(prefix.count)) }
}
