import Foundation
import OaaSProto

extension ClassRuntimeSummaries {
    /// The DeploymentUnit GetDeploymentStatus returns, rebuilt from the CR (§8.3): package_name, class_key,
    /// functions, bindings, odgm_config, target_env, selected_template = status.template (else the spec's hint),
    /// created_at = creationTimestamp, plus nfr, telemetry, revision and deployment_key when the CR has them.
    public static func deploymentUnit(from cr: ClassRuntime) -> Oaas_Deployment_DeploymentUnit {
        let spec = cr.spec
        var unit = Oaas_Deployment_DeploymentUnit()
        unit.id = cr.deploymentId
        unit.packageName = packageName(spec)
        unit.classKey = classKey(spec)
        unit.targetEnv = spec.targetEnv ?? ""
        unit.functions = spec.functions.map(function)
        unit.functionBindings = spec.functionBindings.map { binding in
            var proto = Oaas_Deployment_ClassFunctionBinding()
            proto.name = binding.name
            proto.functionKey = binding.functionKey
            if let value = binding.accessModifier { proto.accessModifier = value }
            if let value = binding.stateless { proto.stateless = value }
            proto.parameters = binding.parameters
            return proto
        }
        if let created = cr.creationTimestamp {
            var timestamp = Oaas_Common_Timestamp()
            let seconds = created.timeIntervalSince1970.rounded(.down)
            timestamp.seconds = Int64(seconds)
            timestamp.nanos = Int32(((created.timeIntervalSince1970 - seconds) * 1e9).rounded(.down))
            unit.createdAt = timestamp
        }
        if let odgm = spec.odgmConfig { unit.odgmConfig = odgmConfig(odgm) }
        if let template = cr.status?.template ?? spec.selectedTemplate { unit.selectedTemplate = template }
        if let telemetry = spec.telemetry { unit.telemetry = self.telemetry(telemetry) }
        if spec.nfrRequirements != nil || spec.enforcement != nil { unit.nfr = nfr(spec) }
        if let revision = cr.revision { unit.revision = revision }
        if let key = spec.deploymentKey { unit.deploymentKey = key }
        return unit
    }

    static func function(_ function: ClassRuntimeSpec.Function) -> Oaas_Deployment_FunctionDeploymentSpec {
        var proto = Oaas_Deployment_FunctionDeploymentSpec()
        proto.functionKey = function.functionKey
        if let value = function.description { proto.description_p = value }
        if let value = function.availableLocation { proto.availableLocation = value }
        if let nfr = function.nfrRequirements {
            var requirements = Oaas_Common_NfrRequirements()
            if let value = nfr.minThroughputRps { requirements.minThroughputRps = value }
            if let value = nfr.availability { requirements.availability = value }
            if let value = nfr.cpuUtilizationTarget { requirements.cpuUtilizationTarget = value }
            if let value = nfr.maxLatencyMs { requirements.maxLatencyMs = value }
            if let value = nfr.consistency { requirements.consistency = value }
            proto.nfrRequirements = requirements
        }
        if let p = function.provisionConfig {
            var config = Oaas_Common_ProvisionConfig()
            if let value = p.containerImage { config.containerImage = value }
            if let value = p.port { config.port = value }
            config.maxConcurrency = p.maxConcurrency ?? 0
            config.needHTTP2 = p.needHttp2 ?? false
            if let value = p.cpuRequest { config.cpuRequest = value }
            if let value = p.memoryRequest { config.memoryRequest = value }
            if let value = p.cpuLimit { config.cpuLimit = value }
            if let value = p.memoryLimit { config.memoryLimit = value }
            if let value = p.minScale { config.minScale = value }
            if let value = p.maxScale { config.maxScale = value }
            if let value = p.wasmModuleUrl { config.wasmModuleURL = value }
            if let value = p.wasmFuel { config.wasmFuel = value }
            if let value = p.endpointUrl { config.endpointURL = value }
            proto.provisionConfig = config
        }
        proto.config = function.config
        return proto
    }

    static func odgmConfig(_ odgm: ClassRuntimeSpec.OdgmConfig) -> Oaas_Deployment_OdgmConfig {
        var proto = Oaas_Deployment_OdgmConfig()
        proto.collections = odgm.collections
        if let value = odgm.partitionCount { proto.partitionCount = UInt32(clamping: value) }
        if let value = odgm.replicaCount { proto.replicaCount = UInt32(clamping: value) }
        if let value = odgm.shardType { proto.shardType = value }
        if let invocations = odgm.invocations {
            var routes = Oaas_Deployment_InvocationRoutes()
            routes.fnRoutes = invocations.fnRoutes.mapValues { route in
                var proto = Oaas_Deployment_FunctionRoute()
                proto.url = route.url
                if let value = route.stateless { proto.stateless = value }
                if let value = route.standby { proto.standby = value }
                proto.activeGroup = route.activeGroup
                if let value = route.functionKey { proto.functionKey = value }
                return proto
            }
            routes.disabledFn = invocations.disabledFn
            proto.invocations = routes
        }
        proto.options = odgm.options
        if let value = odgm.log { proto.log = value }
        proto.envNodeIds = odgm.envNodeIds.mapValues { ids in
            var nodeIds = Oaas_Deployment_OdgmNodeIds()
            nodeIds.ids = ids
            return nodeIds
        }
        if let value = odgm.nodeId { proto.odgmNodeID = value }
        proto.collectionAssignments = odgm.collectionAssignments.mapValues { assignments in
            var collection = Oaas_Deployment_CollectionShardAssignments()
            collection.assignments = assignments.map { assignment in
                var spec = Oaas_Deployment_ShardAssignmentSpec()
                if let value = assignment.primary { spec.primary = value }
                spec.replica = assignment.replica
                spec.shardIds = assignment.shardIds
                return spec
            }
            return collection
        }
        if let value = odgm.zenohMode { proto.zenohMode = value }
        if let persistence = odgm.persistence {
            var proto2 = Oaas_Deployment_OdgmPersistence()
            proto2.enabled = persistence.enabled
            if let value = persistence.size { proto2.size = value }
            if let value = persistence.storageClass { proto2.storageClass = value }
            proto.persistence = proto2
        }
        return proto
    }

    static func telemetry(_ telemetry: ClassRuntimeSpec.Telemetry) -> Oaas_Common_TelemetrySpec {
        var proto = Oaas_Common_TelemetrySpec()
        proto.enabled = telemetry.isEnabled
        if let value = telemetry.traces { proto.traces = value }
        if let value = telemetry.metrics { proto.metrics = value }
        if let value = telemetry.logs { proto.logs = value }
        if let value = telemetry.samplingRate { proto.samplingRate = value }
        if let value = telemetry.serviceName { proto.serviceName = value }
        proto.resourceAttributes = telemetry.resourceAttributes
        return proto
    }

    static func nfr(_ spec: ClassRuntimeSpec) -> Oaas_Deployment_UnitNfr {
        var proto = Oaas_Deployment_UnitNfr()
        if let nfr = spec.nfrRequirements {
            if let value = nfr.minThroughputRps { proto.minThroughputRps = value }
            if let value = nfr.maxLatencyMs { proto.maxLatencyMs = value }
            if let value = nfr.availabilityPct { proto.availability = UnitMapping.ratio(value) }
            if let value = nfr.consistency { proto.consistency = value }
            if let value = nfr.cpuUtilizationTarget { proto.cpuUtilizationTarget = value }
        }
        if let enforcement = spec.enforcement {
            if let mode = enforcement.mode { proto.enforcementMode = mode }
            proto.enforcementDimensions = enforcement.dimensions
        }
        return proto
    }
}
