import Foundation

/// Tables of the control-plane commands (spec §15), built from PM's JSON. A missing field shows as `-`,
/// so a PM of another version still gives a readable table.
enum PMRender {
    static func packages(_ items: [StructuredValue]) -> String {
        let rows = items.map { p in
            [
                p["name"].cell, p["version"].cell,
                String(p["classes"]?.arrayValue?.count ?? 0), String(p["functions"]?.arrayValue?.count ?? 0),
                p[path: "metadata", "tags"].cell, p[path: "metadata", "updated_at"].cell,
            ]
        }
        return Render.table(header: ["NAME", "VERSION", "CLASSES", "FUNCTIONS", "TAGS", "UPDATED"], rows: rows)
    }

    static func deployments(_ items: [StructuredValue]) -> String {
        let rows = items.map { d -> [String] in
            let selected = d[path: "status", "selected_envs"]
            let envs = selected?.scalarText != nil ? selected : d["target_envs"]
            return [d["key"].cell, d["package_name"].cell, d["class_key"].cell, d["condition"].cell, envs.cell,
                    d["revision"].cell, d["updated_at"].cell]
        }
        return Render.table(header: ["KEY", "PACKAGE", "CLASS", "CONDITION", "ENVS", "REVISION", "UPDATED"], rows: rows)
    }

    /// `deploy status`: one row per env of a DeploymentStatusView.
    static func deploymentStatus(_ view: StructuredValue) -> String {
        let rows = (view["envs"]?.arrayValue ?? []).map { env in
            [env["env"].cell, env["unit_id"].cell, env["condition"].cell, env["template"].cell, env["ready"].cell,
             envMessage(env) ?? "-"]
        }
        return Render.table(header: ["ENV", "UNIT", "CONDITION", "TEMPLATE", "READY", "MESSAGE"], rows: rows)
    }

    /// What went wrong or is happening in one env: its message, else its last error.
    static func envMessage(_ env: StructuredValue) -> String? {
        env["message"]?.scalarText ?? env["last_error"]?.scalarText
    }

    /// The units of a DeploymentResponse, indented under its status line.
    static func units(_ response: StructuredValue) -> String {
        let units = response["units"]?.arrayValue ?? []
        guard !units.isEmpty else { return "" }
        // The ERROR column only when some unit has one.
        let errors = units.map { $0["error"]?.scalarText }
        let withErrors = errors.contains { $0 != nil }
        let rows = zip(units, errors).map { unit, error in
            [unit["env"].cell, unit["unit_id"].cell, unit["result"].cell] + (withErrors ? [error ?? ""] : [])
        }
        let table = Render.table(header: ["ENV", "UNIT", "RESULT"] + (withErrors ? ["ERROR"] : []), rows: rows)
        return table.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "  \($0)\n" }.joined()
    }

    static func classes(_ items: [StructuredValue]) -> String {
        let rows = items.map { c in
            [
                c["key"].cell, c["package_name"].cell,
                (c["function_bindings"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.joined(separator: ",").orDash,
                c[path: "state_spec", "consistency_model"]?.scalarText ?? "NONE",
                c[path: "state_spec", "persistent"]?.scalarText ?? "false",
            ]
        }
        return Render.table(header: ["CLASS", "PACKAGE", "METHODS", "CONSISTENCY", "PERSISTENT"], rows: rows)
    }

    static func functions(_ items: [StructuredValue]) -> String {
        let rows = items.map { f in
            [f["package_name"].cell, f["key"].cell, f["function_type"]?.scalarText ?? "CUSTOM", source(f), f["bound_by"].cell]
        }
        return Render.table(header: ["PACKAGE", "FUNCTION", "TYPE", "SOURCE", "BOUND_BY"], rows: rows)
    }

    /// Where a function runs from: its WASM module, endpoint or image (the first present).
    static func source(_ function: StructuredValue) -> String {
        let config = function["provision_config"]
        for (key, label) in [("wasm_module_url", "wasm"), ("endpoint_url", "endpoint"), ("container_image", "image")] {
            if let value = config?[key]?.scalarText { return "\(label):\(value)" }
        }
        return "-"
    }

    static func classRuntimes(_ items: [StructuredValue]) -> String {
        let rows = items.map { r in
            [r["id"].cell, r["package_name"].cell, r["class_key"].cell, r["target_environment"].cell,
             r[path: "status", "condition"].cell, r[path: "status", "phase"].cell, r["partition_count"].cell,
             r[path: "status", "message"].cell]
        }
        return Render.table(header: ["ID", "PACKAGE", "CLASS", "ENV", "CONDITION", "PHASE", "PARTITIONS", "MESSAGE"], rows: rows)
    }

    /// `env list`: EnvInfo items.
    static func envs(_ items: [StructuredValue]) -> String {
        let rows = items.map { e -> [String] in
            let health = e["health"]
            return [e["name"].cell, health?["status"].cell ?? "-", availability(health), nodes(health),
                    health?["crm_version"].cell ?? "-", health?["last_seen"].cell ?? "-",
                    e["default"]?.boolValue == true ? "*" : ""]
        }
        return Render.table(header: ["NAME", "STATUS", "AVAILABILITY", "NODES", "CRM_VERSION", "LAST_SEEN", "DEFAULT"], rows: rows)
    }

    /// `env health`: ClusterHealth items.
    static func envHealth(_ items: [StructuredValue]) -> String {
        let rows = items.map { h in
            [h["cluster_name"].cell, h["crm_env_name"].cell, h["status"].cell, availability(h), nodes(h),
             h["crm_version"].cell, h["last_seen"].cell, h["templates"].cell]
        }
        return Render.table(header: ["NAME", "CRM_ENV", "STATUS", "AVAILABILITY", "NODES", "CRM_VERSION", "LAST_SEEN", "TEMPLATES"],
                            rows: rows)
    }

    /// `ready/total`, or `-` when the CRM reported no counts.
    static func nodes(_ health: StructuredValue?) -> String {
        guard let total = health?["node_count"]?.intValue else { return "-" }
        return "\(health?["ready_nodes"]?.intValue.map(String.init) ?? "?")/\(total)"
    }

    static func availability(_ health: StructuredValue?) -> String {
        guard let value = health?["availability"] else { return "-" }
        if case .double(let v) = value { return String(format: "%.4g", v) }
        return Optional(value).cell
    }
}

extension String {
    var orDash: String { isEmpty ? "-" : self }
}
