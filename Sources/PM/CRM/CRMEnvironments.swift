import Foundation

/// One env PM can deploy to and the client of its CRM.
public struct CRMEnvironment: Sendable {
    public var config: CRMEnvConfig
    public var client: any CRMClient
    /// The CRM lives in this process (no network hop).
    public var inProcess: Bool

    public var name: String { config.name }
}

/// The envs of this PM, by name, with the default env (spec §7).
struct CRMEnvironments: Sendable {
    /// Sorted by name.
    let all: [CRMEnvironment]
    let defaultEnv: String?
    private let byName: [String: CRMEnvironment]

    init(_ envs: [CRMEnvironment], defaultEnv: String?) {
        all = envs.sorted { $0.name < $1.name }
        byName = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.defaultEnv = defaultEnv
    }

    subscript(name: String) -> CRMEnvironment? { byName[name] }

    var names: [String] { all.map(\.name) }
    var nameSet: Set<String> { Set(byName.keys) }
}
