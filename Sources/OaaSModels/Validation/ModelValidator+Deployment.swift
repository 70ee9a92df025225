extension ModelValidator {
    /// Validates a deployment (spec §3).
    /// - Parameters:
    ///   - package: the package named by `package_name`, or nil if it does not exist (→ NOT_FOUND on
    ///     `package_name`; the class checks are skipped).
    ///   - knownEnvs: the configured envs (→ UNKNOWN_ENV for others); nil skips the env checks (e.g. the CLI).
    public static func validate(
        deployment: OClassDeployment,
        package: OPackage?,
        knownEnvs: Set<String>?
    ) -> ValidationReport {
        var report = ValidationReport()
        let root = FieldPath.root
        report.check(.deploymentKey, deployment.key, at: root.key("key"))

        if deployment.packageName.isEmpty {
            report.fail(root.key("package_name"), "is required")
        } else if package == nil {
            report.fail(root.key("package_name"), "package '\(deployment.packageName)' not found", code: .notFound)
        }
        let cls = package?.class(deployment.classKey)
        if deployment.classKey.isEmpty {
            report.fail(root.key("class_key"), "is required")
        } else if let package, cls == nil {
            report.fail(root.key("class_key"), "class '\(deployment.classKey)' is not defined in package '\(package.name)'")
        }

        checkEnvList(deployment.targetEnvs, at: root.key("target_envs"), knownEnvs: knownEnvs, into: &report)
        checkEnvList(deployment.availableEnvs, at: root.key("available_envs"), knownEnvs: knownEnvs, into: &report)
        checkNfr(deployment.nfrRequirements, at: root.key("nfr_requirements"), into: &report)

        for env in deployment.envTemplates.keys.sorted() {
            let path = root.key("env_templates").mapKey(env)
            checkEnv(env, at: path, knownEnvs: knownEnvs, into: &report)
            let template = deployment.envTemplates[env] ?? ""
            if !ValueRules.templateNames.contains(template.lowercased()) {
                report.fail(path, "unknown template '\(template)', expected dev, edge, cloud, knative or an alias")
            }
        }

        checkFunctions(deployment.functions, cls: cls, at: root.key("functions"), into: &report)
        if let odgm = deployment.odgm {
            checkOdgm(odgm, at: root.key("odgm"), knownEnvs: knownEnvs, into: &report)
        }
        if let rate = deployment.telemetry?.samplingRate, !(rate >= 0 && rate <= 1) {
            report.fail(root.key("telemetry").key("sampling_rate"), "must be in [0, 1], found \(rate)")
        }
        if let enforcement = deployment.enforcement {
            var seen = Set<EnforcementDimension>()
            for (index, dimension) in enforcement.dimensions.enumerated() where !seen.insert(dimension).inserted {
                report.fail(root.key("enforcement").key("dimensions").index(index), "duplicate dimension '\(dimension.rawValue)'")
            }
        }
        return report
    }

    private static func checkEnv(_ env: String, at path: FieldPath, knownEnvs: Set<String>?, into report: inout ValidationReport) {
        if env.isEmpty {
            report.fail(path, "must not be empty")
        } else if let knownEnvs, !knownEnvs.contains(env) {
            let configured = knownEnvs.sorted().joined(separator: ", ")
            report.fail(path, "env '\(env)' is not configured (configured: \(configured))", code: .unknownEnv)
        }
    }

    private static func checkEnvList(_ envs: [String], at path: FieldPath, knownEnvs: Set<String>?, into report: inout ValidationReport) {
        var seen = Set<String>()
        for (index, env) in envs.enumerated() {
            if !env.isEmpty, !seen.insert(env).inserted {
                report.fail(path.index(index), "duplicate env '\(env)'")
            } else {
                checkEnv(env, at: path.index(index), knownEnvs: knownEnvs, into: &report)
            }
        }
    }

    private static func checkNfr(_ nfr: NfrRequirements, at path: FieldPath, into report: inout ValidationReport) {
        if nfr.minThroughputRps == 0 { report.fail(path.key("min_throughput_rps"), "must be at least 1, found 0") }
        if let availability = nfr.availability, !(availability > 0 && availability <= 1) {
            report.fail(path.key("availability"), "must be in (0, 1], found \(availability)")
        }
        if let target = nfr.cpuUtilizationTarget, !(target > 0 && target <= 1) {
            report.fail(path.key("cpu_utilization_target"), "must be in (0, 1], found \(target)")
        }
        if nfr.maxLatencyMs == 0 { report.fail(path.key("max_latency_ms"), "must be at least 1, found 0") }
    }

    private static func checkFunctions(
        _ functions: [FunctionDeploymentSpec],
        cls: OClass?,
        at path: FieldPath,
        into report: inout ValidationReport
    ) {
        let bound = Set(cls?.boundFunctionKeys ?? [])
        var seen: [String: Int] = [:]
        for (index, spec) in functions.enumerated() {
            let specPath = path.index(index)
            let keyPath = specPath.key("function_key")
            if spec.functionKey.isEmpty {
                report.fail(keyPath, "is required")
            } else if let first = seen[spec.functionKey] {
                report.fail(keyPath, "duplicate function '\(spec.functionKey)' (first at functions[\(first)])")
            } else {
                seen[spec.functionKey] = index
                if let cls, !bound.contains(spec.functionKey) {
                    report.fail(keyPath, "function '\(spec.functionKey)' is not bound by class '\(cls.key)'")
                }
            }
            if let provision = spec.provisionConfig {
                checkProvision(provision, at: specPath.key("provision_config"), into: &report)
            }
            checkConfigKeys(spec.config, at: specPath.key("config"), into: &report)
        }
    }

    private static func checkOdgm(
        _ odgm: OdgmDataSpec,
        at path: FieldPath,
        knownEnvs: Set<String>?,
        into report: inout ValidationReport
    ) {
        var collections = Set<String>()
        for (index, name) in odgm.collections.enumerated() {
            let itemPath = path.key("collections").index(index)
            if name.isEmpty {
                report.fail(itemPath, "must not be empty")
            } else if name.utf8.count > 253 {
                report.fail(itemPath, "collection name must be at most 253 characters (found \(name.utf8.count))")
            } else if !collections.insert(name).inserted {
                report.fail(itemPath, "duplicate collection '\(name)'")
            }
        }
        if let count = odgm.partitionCount, !OdgmDataSpec.partitionCountRange.contains(count) {
            report.fail(path.key("partition_count"), "must be in 1...4096, found \(count)")
        }
        if let count = odgm.replicaCount, !OdgmDataSpec.replicaCountRange.contains(count) {
            report.fail(path.key("replica_count"), "must be in 1...50, found \(count)")
        }
        if let shardType = odgm.shardType {
            if !OdgmDataSpec.shardTypes.contains(shardType) {
                report.fail(path.key("shard_type"), "unknown shard type '\(shardType)', expected one of mst, raft, none, basic, single")
            } else if OdgmDataSpec.singleReplicaShardTypes.contains(shardType), let count = odgm.replicaCount, count > 1 {
                report.fail(path.key("replica_count"), "shard type '\(shardType)' has exactly one replica, found replica_count \(count)")
            }
        }
        var nodeIds = Set<UInt64>()
        for env in odgm.envNodeIds.keys.sorted() {
            let envPath = path.key("env_node_ids").mapKey(env)
            checkEnv(env, at: envPath, knownEnvs: knownEnvs, into: &report)
            for (index, id) in (odgm.envNodeIds[env] ?? []).enumerated() {
                if id == 0 {
                    report.fail(envPath.index(index), "node ids must be greater than 0")
                } else if !nodeIds.insert(id).inserted {
                    report.fail(envPath.index(index), "duplicate node id \(id)")
                }
            }
        }
        if let size = odgm.storageSize, !ValueRules.isQuantity(size) {
            report.fail(path.key("storage_size"), "'\(size)' is not a Kubernetes quantity (e.g. 1Gi, 500Mi)")
        }
    }
}
