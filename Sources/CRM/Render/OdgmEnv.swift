import Kube

/// The ODGM container env (control-plane spec §11.4; meanings data-plane §9.1), in the spec's order with
/// `OPRC_CRM_TEMPLATES_ODGM_EXTRA_ENV` appended last.
struct OdgmEnv {
    let cr: ClassRuntime
    let context: RenderContext
    let statefulSet: String
    let headless: String
    let collectionJSON: String

    /// Node ids this env runs: `env_node_ids[target_env]`, else `[node_id]`, else none (one node, ODGM's default id).
    static func localNodes(_ spec: ClassRuntimeSpec) -> [UInt64] {
        let odgm = spec.odgmConfig
        if let env = spec.targetEnv, let ids = odgm?.envNodeIds[env], !ids.isEmpty { return ids }
        if let id = odgm?.nodeId { return [id] }
        return []
    }

    /// Sorted unique ids of every env's nodes (and this env's `node_id`).
    static func members(_ spec: ClassRuntimeSpec) -> [UInt64] {
        var ids = Set(spec.odgmConfig?.envNodeIds.values.flatMap { $0 } ?? [])
        if let id = spec.odgmConfig?.nodeId { ids.insert(id) }
        return ids.sorted()
    }

    func render() -> [JSONValue] {
        let spec = cr.spec
        let local = Self.localNodes(spec)
        let peerDomain = "\(headless).\(context.namespace).svc.\(context.clusterDomain)"
        var env: [JSONValue] = [
            EnvVar.value("ODGM_CLUSTER_ID", cr.name),
            EnvVar.fieldRef("POD_NAME", "metadata.name"),
        ]
        if local.count == 1, let id = local.first { env.append(EnvVar.value("ODGM_NODE_ID", String(id))) }
        if local.count > 1 {
            env.append(EnvVar.value("ODGM_NODE_ID_LIST", local.map(String.init).joined(separator: ",")))
        }
        env.append(EnvVar.value("ODGM_NODE_ADDR", "http://$(POD_NAME).\(peerDomain):8080"))
        let members = Self.members(spec)
        if !members.isEmpty {
            env.append(EnvVar.value("ODGM_MEMBERS", members.map(String.init).joined(separator: ",")))
        }
        if !local.isEmpty {
            let addresses = local.enumerated().map { "\($1)=http://\(statefulSet)-\($0).\(peerDomain):8080" }
            env.append(EnvVar.value("ODGM_MEMBER_ADDRS", addresses.joined(separator: ",")))
        }
        env.append(EnvVar.value("ODGM_COLLECTION", collectionJSON))
        if let log = spec.odgmConfig?.log { env.append(EnvVar.value("ODGM_LOG", log)) }
        env.append(EnvVar.value("ODGM_HTTP_PORT", "8080"))
        env.append(EnvVar.value("ODGM_DATA_DIR", OdgmRenderer.dataDir))
        if let router = context.routerURL { env.append(EnvVar.value("OPRC_ROUTER_URL", router)) }
        env.append(EnvVar.value("OPRC_ENV", spec.targetEnv ?? context.envName))
        env.append(EnvVar.value("OPRC_CLS_ID", spec.packageClassKey))
        env.append(EnvVar.value("OPRC_DEPLOYMENT_ID", cr.name))
        for (name, value) in TelemetryEnv.entries(spec.telemetry, serviceName: "\(cr.name)-odgm", context: context) {
            env.append(EnvVar.value(name, value))
        }
        for (name, value) in context.odgmExtraEnv { env.append(EnvVar.value(name, value)) }
        return env
    }
}
