import Kube

/// The env of a function container (control-plane spec §11.3; meanings data-plane §10): the function's `config`
/// plus injected values, sorted by name. On a clash the user's `config` wins with a warning, except over
/// `ODGM_SERVICE`, which the CRM keeps; `HTTP_PORT` is injected only when `config` lacks it.
struct FunctionEnv {
    /// `<odgm-svc host>:8080` and the `ODGM_COLLECTION` JSON, when ODGM is on.
    var odgm: (service: String, collectionJSON: String)?

    func render(_ function: ClassRuntimeSpec.Function, port: Int, cr: ClassRuntime, child: String,
                context: RenderContext) -> (env: [JSONValue], warnings: [String]) {
        let spec = cr.spec
        var injected: [(String, String)] = []
        if let odgm {
            injected.append(("ODGM_ENABLED", "true"))
            injected.append(("ODGM_SERVICE", odgm.service))
            injected.append(("ODGM_COLLECTION", odgm.collectionJSON))
        }
        injected.append(("OPRC_CLS_ID", spec.packageClassKey))
        injected.append(("OPRC_DEPLOYMENT_ID", cr.name))
        injected.append(("OPRC_FUNCTION_KEY", function.functionKey))
        injected.append(("OPRC_ENV", spec.targetEnv ?? context.envName))
        let partitions = max(1, Int(spec.odgmConfig?.partitionCount ?? 1))
        injected.append(("OPRC_PARTITION_RANGE", "0-\(partitions - 1)"))
        if let router = context.routerURL { injected.append(("OPRC_ROUTER_URL", router)) }
        injected += TelemetryEnv.entries(spec.telemetry, serviceName: spec.telemetry?.serviceName ?? child,
                                         context: context)

        var values: [String: String] = [:]
        for (name, value) in injected { values[name] = value }
        var warnings: [String] = []
        for (name, value) in function.config.sorted(by: { $0.key < $1.key }) {
            guard let current = values[name] else {
                values[name] = value
                continue
            }
            if name == "ODGM_SERVICE" {
                warnings.append("function '\(function.functionKey)': config ODGM_SERVICE ignored; the CRM sets it to '\(current)'")
            } else {
                if current != value {
                    warnings.append("function '\(function.functionKey)': config \(name) overrides the injected value")
                }
                values[name] = value
            }
        }
        if values["HTTP_PORT"] == nil {
            values["HTTP_PORT"] = String(port)
        } else if values["HTTP_PORT"] != String(port) {
            warnings.append("function '\(function.functionKey)': config HTTP_PORT is '\(values["HTTP_PORT"] ?? "")' "
                + "but the container port is \(port)")
        }
        let env = values.keys.sorted().map { EnvVar.value($0, values[$0] ?? "") }
        return (env, warnings)
    }

    /// P = `provision_config.port`, else integer `config.HTTP_PORT`, else 8080.
    static func port(_ function: ClassRuntimeSpec.Function) -> Int {
        if let port = function.provisionConfig?.port { return Int(port) }
        if let text = function.config["HTTP_PORT"], let port = Int(text), (1...65535).contains(port) { return port }
        return 8080
    }
}
