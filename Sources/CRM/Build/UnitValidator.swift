import Foundation
import OaaSModels
import OaaSProto

/// The INVALID_ARGUMENT rules of control-plane spec §8.1 for a DeploymentUnit, plus the shape checks the CRD would
/// otherwise reject with a 422 after the fact. PM validates the same things; the CRM re-checks because reference
/// PMs and hand-written clients do not. The first problem is thrown, its message naming the field.
enum UnitValidator {
    static let shardTypes: Set<String> = ["mst", "raft", "none", "basic", "single"]
    static let enforcementModes: Set<String> = ["off", "observe", "enforce"]
    static let enforcementDimensions: Set<String> = ["replicas", "cpu", "memory"]

    static func validate(_ unit: Oaas_Deployment_DeploymentUnit) throws(CRMError) {
        let root = "deployment_unit"
        if unit.id.isEmpty { throw .invalidArgument("\(root).id: required") }
        if unit.packageName.isEmpty { throw .invalidArgument("\(root).package_name: required") }
        if unit.classKey.isEmpty { throw .invalidArgument("\(root).class_key: required") }
        if unit.packageName.contains(".") {
            throw .invalidArgument("\(root).package_name: '\(unit.packageName)' must not contain '.'")
        }
        var seen = Set<String>()
        for (index, function) in unit.functions.enumerated() {
            let path = "\(root).functions[\(index)]"
            if function.functionKey.isEmpty { throw .invalidArgument("\(path).function_key: required") }
            if !seen.insert(function.functionKey).inserted {
                throw .invalidArgument("\(path).function_key: duplicate function '\(function.functionKey)'")
            }
            try validateProvision(function, path: path)
            if function.hasNfrRequirements {
                try validateNfr(function.nfrRequirements, path: "\(path).nfr_requirements")
            }
        }
        if let (index, message) = childNameClash(unit.functions.map(\.functionKey)) {
            throw .invalidArgument("\(root).functions[\(index)].function_key: \(message)")
        }
        var bindingNames = Set<String>()
        for (index, binding) in unit.functionBindings.enumerated() {
            let path = "\(root).function_bindings[\(index)]"
            if binding.name.isEmpty { throw .invalidArgument("\(path).name: required") }
            if binding.functionKey.isEmpty { throw .invalidArgument("\(path).function_key: required") }
            if !bindingNames.insert(binding.name).inserted {
                throw .invalidArgument("\(path).name: duplicate binding '\(binding.name)'")
            }
        }
        if unit.hasOdgmConfig { try validateOdgm(unit.odgmConfig, path: "\(root).odgm_config") }
        if unit.hasNfr { try validateUnitNfr(unit.nfr, path: "\(root).nfr") }
        if unit.hasTelemetry, unit.telemetry.hasSamplingRate {
            let rate = unit.telemetry.samplingRate
            guard rate.isFinite, (0...1).contains(rate) else {
                throw .invalidArgument("\(root).telemetry.sampling_rate: \(rate) is not in [0, 1]")
            }
        }
    }

    /// A function must be runnable somewhere: a container image, a WASM module or an external endpoint.
    private static func validateProvision(
        _ function: Oaas_Deployment_FunctionDeploymentSpec, path functionPath: String
    ) throws(CRMError) {
        let config = function.provisionConfig
        let path = "\(functionPath).provision_config"
        let hasSource = function.hasProvisionConfig
            && (!config.containerImage.isEmpty || !config.wasmModuleURL.isEmpty || !config.endpointURL.isEmpty)
        guard hasSource else {
            throw .invalidArgument(
                "\(path): function '\(function.functionKey)' has no runnable source "
                    + "(container_image, wasm_module_url or endpoint_url)")
        }
        if config.hasPort, !(1...65535).contains(config.port) {
            throw .invalidArgument("\(path).port: \(config.port) is not in 1..65535")
        }
        if config.hasMinScale, config.hasMaxScale, config.minScale > config.maxScale {
            throw .invalidArgument("\(path).min_scale: \(config.minScale) exceeds max_scale \(config.maxScale)")
        }
        if !config.wasmModuleURL.isEmpty, !hasScheme(config.wasmModuleURL, in: ["http", "https", "file"]) {
            throw .invalidArgument("\(path).wasm_module_url: '\(config.wasmModuleURL)' must be an http, https or file URL")
        }
        if !config.endpointURL.isEmpty, !hasScheme(config.endpointURL, in: ["http", "https"]) {
            throw .invalidArgument("\(path).endpoint_url: '\(config.endpointURL)' must be an http or https URL")
        }
        for key in function.config.keys.sorted() where !isEnvName(key) {
            throw .invalidArgument("\(functionPath).config[\"\(key)\"]: not a valid env var name")
        }
    }

    /// Function children are named after dns1035(function_key), so two keys that clean up alike (`Cart.total`,
    /// `cart_total`) would render one object twice. Returns the index of the second key and why.
    static func childNameClash(_ keys: [String]) -> (Int, String)? {
        var owners: [String: String] = [:]
        for (index, key) in keys.enumerated() {
            let suffix = DeterministicIds.dns1035(key)
            if let other = owners[suffix] {
                return (index, "'\(key)' gives the same object names as '\(other)' (fn-\(suffix))")
            }
            owners[suffix] = key
        }
        return nil
    }

    private static func validateOdgm(_ odgm: Oaas_Deployment_OdgmConfig, path: String) throws(CRMError) {
        if odgm.hasShardType, !odgm.shardType.isEmpty, !shardTypes.contains(odgm.shardType.lowercased()) {
            throw .invalidArgument(
                "\(path).shard_type: unknown shard type '\(odgm.shardType)' (mst, raft, none, basic or single)")
        }
        if odgm.hasPartitionCount, odgm.partitionCount > 65536 {
            throw .invalidArgument("\(path).partition_count: \(odgm.partitionCount) is not in 1..65536")
        }
        if odgm.hasReplicaCount, odgm.replicaCount > 50 {
            throw .invalidArgument("\(path).replica_count: \(odgm.replicaCount) is not in 1..50")
        }
        for (index, name) in odgm.collections.enumerated() where name.isEmpty {
            throw .invalidArgument("\(path).collections[\(index)]: must not be empty")
        }
    }

    private static func validateNfr(_ nfr: Oaas_Common_NfrRequirements, path: String) throws(CRMError) {
        if nfr.hasAvailability { try checkRatio(nfr.availability, path: "\(path).availability") }
        if nfr.hasCpuUtilizationTarget {
            try checkRatio(nfr.cpuUtilizationTarget, path: "\(path).cpu_utilization_target")
        }
    }

    private static func validateUnitNfr(_ nfr: Oaas_Deployment_UnitNfr, path: String) throws(CRMError) {
        if nfr.hasAvailability { try checkRatio(nfr.availability, path: "\(path).availability") }
        if nfr.hasCpuUtilizationTarget {
            try checkRatio(nfr.cpuUtilizationTarget, path: "\(path).cpu_utilization_target")
        }
        if nfr.hasEnforcementMode, !enforcementModes.contains(nfr.enforcementMode.lowercased()) {
            throw .invalidArgument(
                "\(path).enforcement_mode: '\(nfr.enforcementMode)' is not one of off, observe, enforce")
        }
        for (index, dimension) in nfr.enforcementDimensions.enumerated()
        where !enforcementDimensions.contains(dimension.lowercased()) {
            throw .invalidArgument(
                "\(path).enforcement_dimensions[\(index)]: '\(dimension)' is not one of replicas, cpu, memory")
        }
    }

    private static func checkRatio(_ value: Double, path: String) throws(CRMError) {
        guard value.isFinite, value > 0, value <= 1 else {
            throw .invalidArgument("\(path): \(value) is not in (0, 1]")
        }
    }

    static func hasScheme(_ url: String, in schemes: Set<String>) -> Bool {
        guard let colon = url.firstIndex(of: ":") else { return false }
        return schemes.contains(url[..<colon].lowercased()) && url[colon...].hasPrefix("://")
    }

    /// `^[A-Za-z_][A-Za-z0-9_]*$`
    static func isEnvName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || CRMNames.isAlnum(first),
              !("0"..."9").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || CRMNames.isAlnum($0) }
    }
}
