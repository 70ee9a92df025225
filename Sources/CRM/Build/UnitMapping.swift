import Foundation
import OaaSProto

/// DeploymentUnit ⇄ ClassRuntime spec (control-plane spec §10.2). Proto "unset" (absent optional, empty string,
/// zero counts the CRD forbids) maps to nil, so the CR carries only what the unit said.
enum UnitMapping {
    static func spec(from unit: Oaas_Deployment_DeploymentUnit) -> ClassRuntimeSpec {
        var spec = ClassRuntimeSpec(
            packageClassKey: "\(unit.packageName).\(unit.classKey)", packageName: unit.packageName,
            classKey: unit.classKey)
        spec.deploymentKey = nonEmpty(unit.hasDeploymentKey ? unit.deploymentKey : "")
        spec.targetEnv = nonEmpty(unit.targetEnv)
        spec.selectedTemplate = nonEmpty(unit.hasSelectedTemplate ? unit.selectedTemplate : "")
        spec.functions = unit.functions.map(function)
        spec.functionBindings = unit.functionBindings.map {
            ClassRuntimeSpec.Binding(
                name: $0.name, functionKey: $0.functionKey,
                accessModifier: $0.hasAccessModifier ? $0.accessModifier : nil,
                stateless: $0.hasStateless ? $0.stateless : nil, parameters: $0.parameters)
        }
        if unit.hasOdgmConfig { spec.odgmConfig = odgm(unit.odgmConfig) }
        if unit.hasNfr {
            spec.nfrRequirements = nfr(unit.nfr)
            spec.enforcement = enforcement(unit.nfr)
        } else if let first = unit.functions.first, first.hasNfrRequirements {
            // A reference PM sends NFRs only per function.
            spec.nfrRequirements = nfr(first.nfrRequirements)
        }
        if spec.nfrRequirements?.isEmpty == true { spec.nfrRequirements = nil }
        if unit.hasTelemetry { spec.telemetry = telemetry(unit.telemetry) }
        return spec
    }

    static func function(_ source: Oaas_Deployment_FunctionDeploymentSpec) -> ClassRuntimeSpec.Function {
        var function = ClassRuntimeSpec.Function(functionKey: source.functionKey, config: source.config)
        function.description = source.hasDescription_p ? source.description_p : nil
        function.availableLocation = source.hasAvailableLocation ? source.availableLocation : nil
        if source.hasNfrRequirements {
            let nfr = source.nfrRequirements
            function.nfrRequirements = ClassRuntimeSpec.FunctionNfr(
                minThroughputRps: nfr.hasMinThroughputRps ? nfr.minThroughputRps : nil,
                availability: nfr.hasAvailability ? nfr.availability : nil,
                cpuUtilizationTarget: nfr.hasCpuUtilizationTarget ? nfr.cpuUtilizationTarget : nil,
                maxLatencyMs: nfr.hasMaxLatencyMs ? nfr.maxLatencyMs : nil,
                consistency: nfr.hasConsistency ? nfr.consistency : nil)
        }
        if source.hasProvisionConfig {
            let p = source.provisionConfig
            function.provisionConfig = ClassRuntimeSpec.ProvisionConfig(
                containerImage: p.hasContainerImage ? nonEmpty(p.containerImage) : nil,
                port: p.hasPort ? p.port : nil,
                maxConcurrency: p.maxConcurrency > 0 ? p.maxConcurrency : nil,
                needHttp2: p.needHTTP2 ? true : nil,
                cpuRequest: p.hasCpuRequest ? nonEmpty(p.cpuRequest) : nil,
                memoryRequest: p.hasMemoryRequest ? nonEmpty(p.memoryRequest) : nil,
                cpuLimit: p.hasCpuLimit ? nonEmpty(p.cpuLimit) : nil,
                memoryLimit: p.hasMemoryLimit ? nonEmpty(p.memoryLimit) : nil,
                minScale: p.hasMinScale ? p.minScale : nil,
                maxScale: p.hasMaxScale ? p.maxScale : nil,
                wasmModuleUrl: p.hasWasmModuleURL ? nonEmpty(p.wasmModuleURL) : nil,
                wasmFuel: p.hasWasmFuel ? p.wasmFuel : nil,
                endpointUrl: p.hasEndpointURL ? nonEmpty(p.endpointURL) : nil)
        }
        return function
    }

    static func odgm(_ source: Oaas_Deployment_OdgmConfig) -> ClassRuntimeSpec.OdgmConfig {
        var odgm = ClassRuntimeSpec.OdgmConfig(collections: source.collections, options: source.options)
        // The CRD demands ≥ 1; 0 means "unset" on the wire.
        odgm.partitionCount = source.hasPartitionCount && source.partitionCount > 0
            ? Int32(clamping: source.partitionCount) : nil
        odgm.replicaCount = source.hasReplicaCount && source.replicaCount > 0
            ? Int32(clamping: source.replicaCount) : nil
        odgm.shardType = source.hasShardType ? nonEmpty(source.shardType) : nil
        if source.hasInvocations {
            let invocations = source.invocations
            odgm.invocations = ClassRuntimeSpec.Invocations(
                fnRoutes: invocations.fnRoutes.mapValues {
                    ClassRuntimeSpec.Route(
                        url: $0.url, stateless: $0.hasStateless ? $0.stateless : nil,
                        standby: $0.hasStandby ? $0.standby : nil, activeGroup: $0.activeGroup,
                        functionKey: $0.hasFunctionKey ? nonEmpty($0.functionKey) : nil)
                },
                disabledFn: invocations.disabledFn)
        }
        odgm.log = source.hasLog ? nonEmpty(source.log) : nil
        odgm.envNodeIds = source.envNodeIds.mapValues(\.ids)
        odgm.nodeId = source.hasOdgmNodeID && source.odgmNodeID > 0 ? source.odgmNodeID : nil
        odgm.collectionAssignments = source.collectionAssignments.mapValues {
            $0.assignments.map {
                ClassRuntimeSpec.ShardAssignment(
                    primary: $0.hasPrimary ? $0.primary : nil, replica: $0.replica, shardIds: $0.shardIds)
            }
        }
        odgm.zenohMode = source.hasZenohMode ? nonEmpty(source.zenohMode) : nil
        if source.hasPersistence {
            let p = source.persistence
            odgm.persistence = ClassRuntimeSpec.Persistence(
                enabled: p.enabled, size: p.hasSize ? nonEmpty(p.size) : nil,
                storageClass: p.hasStorageClass ? nonEmpty(p.storageClass) : nil)
        }
        return odgm
    }

    static func nfr(_ source: Oaas_Deployment_UnitNfr) -> ClassRuntimeSpec.Nfr {
        nfr(rps: source.hasMinThroughputRps ? source.minThroughputRps : nil,
            latency: source.hasMaxLatencyMs ? source.maxLatencyMs : nil,
            availability: source.hasAvailability ? source.availability : nil,
            consistency: source.hasConsistency ? source.consistency : nil,
            cpuTarget: source.hasCpuUtilizationTarget ? source.cpuUtilizationTarget : nil)
    }

    /// A reference PM's per-function NFRs (same fields, another message).
    static func nfr(_ source: Oaas_Common_NfrRequirements) -> ClassRuntimeSpec.Nfr {
        nfr(rps: source.hasMinThroughputRps ? source.minThroughputRps : nil,
            latency: source.hasMaxLatencyMs ? source.maxLatencyMs : nil,
            availability: source.hasAvailability ? source.availability : nil,
            consistency: source.hasConsistency ? source.consistency : nil,
            cpuTarget: source.hasCpuUtilizationTarget ? source.cpuUtilizationTarget : nil)
    }

    private static func nfr(rps: UInt32?, latency: UInt32?, availability: Double?, consistency: String?,
                            cpuTarget: Double?) -> ClassRuntimeSpec.Nfr {
        ClassRuntimeSpec.Nfr(
            minThroughputRps: rps, maxLatencyMs: latency, availabilityPct: availability.map(percent),
            consistency: consistency.flatMap { nonEmpty($0.lowercased()) }, cpuUtilizationTarget: cpuTarget)
    }

    static func enforcement(_ source: Oaas_Deployment_UnitNfr) -> ClassRuntimeSpec.Enforcement? {
        guard source.hasEnforcementMode || !source.enforcementDimensions.isEmpty else { return nil }
        return ClassRuntimeSpec.Enforcement(
            mode: source.hasEnforcementMode ? source.enforcementMode.lowercased() : nil,
            dimensions: source.enforcementDimensions.map { $0.lowercased() })
    }

    static func telemetry(_ source: Oaas_Common_TelemetrySpec) -> ClassRuntimeSpec.Telemetry {
        ClassRuntimeSpec.Telemetry(
            enabled: source.enabled, traces: source.hasTraces ? source.traces : nil,
            metrics: source.hasMetrics ? source.metrics : nil, logs: source.hasLogs ? source.logs : nil,
            samplingRate: source.hasSamplingRate ? source.samplingRate : nil,
            serviceName: source.hasServiceName ? nonEmpty(source.serviceName) : nil,
            resourceAttributes: source.resourceAttributes)
    }

    /// availability × 100, rounded to 6 decimals so 0.999 gives exactly 99.9 (the ≥ 99.9 rule compares it).
    static func percent(_ ratio: Double) -> Double { (ratio * 100 * 1_000_000).rounded() / 1_000_000 }

    static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
}

extension UnitMapping {
    /// availability_pct / 100, rounded like `percent` so the round trip is exact for sensible inputs.
    static func ratio(_ percent: Double) -> Double { (percent / 100 * 1e12).rounded() / 1e12 }
}
