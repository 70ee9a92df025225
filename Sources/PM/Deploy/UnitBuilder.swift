import Foundation
import OaaSModels
import OaaSProto

/// Builds the DeploymentUnit of one env from an effective record and its class (spec §5.4, field by field).
enum UnitBuilder {
    static func unit(_ record: OClassDeployment, cls: OClass, env: String) -> Oaas_Deployment_DeploymentUnit {
        var unit = Oaas_Deployment_DeploymentUnit()
        unit.id = DeterministicIds.unitId(deploymentKey: record.key, env: env)
        unit.packageName = record.packageName
        unit.classKey = record.classKey
        let functionNfr = functionNfr(record.nfrRequirements, consistency: cls.consistency)
        unit.functions = record.functions.map { function($0, nfr: functionNfr) }
        unit.targetEnv = env
        unit.functionBindings = cls.functionBindings.map(binding)
        if let created = record.createdAt.flatMap(Timestamps.parse) { unit.createdAt = Timestamps.proto(created) }
        unit.odgmConfig = odgm(record, cls: cls, env: env)
        if let template = record.envTemplates[env] { unit.selectedTemplate = template }
        if let telemetry = record.telemetry { unit.telemetry = self.telemetry(telemetry) }
        unit.nfr = unitNfr(record, consistency: cls.consistency)
        if let revision = record.revision { unit.revision = revision }
        unit.deploymentKey = record.key
        return unit
    }

    /// Two builds describe the same desired state when they differ at most in `revision` (spec §5.6 `unchanged`).
    static func sameDesiredState(_ lhs: Oaas_Deployment_DeploymentUnit, _ rhs: Oaas_Deployment_DeploymentUnit) -> Bool {
        var left = lhs
        var right = rhs
        left.clearRevision()
        right.clearRevision()
        return left == right
    }

    // MARK: Parts

    private static func function(_ spec: FunctionDeploymentSpec, nfr: Oaas_Common_NfrRequirements) -> Oaas_Deployment_FunctionDeploymentSpec {
        var function = Oaas_Deployment_FunctionDeploymentSpec()
        function.functionKey = spec.functionKey
        if let description = spec.description { function.description_p = description }
        if let location = spec.availableLocation { function.availableLocation = location }
        function.nfrRequirements = nfr
        if let provision = spec.provisionConfig { function.provisionConfig = self.provision(provision) }
        function.config = spec.config
        return function
    }

    private static func provision(_ config: ProvisionConfig) -> Oaas_Common_ProvisionConfig {
        var proto = Oaas_Common_ProvisionConfig()
        if let value = config.containerImage { proto.containerImage = value }
        if let value = config.port { proto.port = UInt32(value) }
        proto.maxConcurrency = config.maxConcurrency
        proto.needHTTP2 = config.needHttp2
        if let value = config.cpuRequest { proto.cpuRequest = value }
        if let value = config.memoryRequest { proto.memoryRequest = value }
        if let value = config.cpuLimit { proto.cpuLimit = value }
        if let value = config.memoryLimit { proto.memoryLimit = value }
        if let value = config.minScale { proto.minScale = value }
        if let value = config.maxScale { proto.maxScale = value }
        if let value = config.wasmModuleUrl { proto.wasmModuleURL = value }
        if let value = config.wasmFuel { proto.wasmFuel = value }
        if let value = config.endpointUrl { proto.endpointURL = value }
        return proto
    }

    /// The deployment's NFR subset carried by each function (field 7), with the class's consistency.
    private static func functionNfr(_ nfr: NfrRequirements, consistency: ConsistencyModel) -> Oaas_Common_NfrRequirements {
        var proto = Oaas_Common_NfrRequirements()
        if let value = nfr.minThroughputRps { proto.minThroughputRps = value }
        if let value = nfr.availability { proto.availability = value }
        if let value = nfr.cpuUtilizationTarget { proto.cpuUtilizationTarget = value }
        if let value = nfr.maxLatencyMs { proto.maxLatencyMs = value }
        proto.consistency = consistency.unitNfrValue
        return proto
    }

    private static func binding(_ binding: FunctionBinding) -> Oaas_Deployment_ClassFunctionBinding {
        var proto = Oaas_Deployment_ClassFunctionBinding()
        proto.name = binding.name
        proto.functionKey = binding.functionKey
        proto.accessModifier = binding.accessModifier.rawValue
        proto.stateless = binding.stateless
        proto.parameters = binding.parameters
        return proto
    }

    private static func odgm(_ record: OClassDeployment, cls: OClass, env: String) -> Oaas_Deployment_OdgmConfig {
        let odgm = record.odgm ?? OdgmDataSpec()
        let partitions = odgm.partitionCount ?? 1
        let replicas = odgm.replicaCount ?? 1
        var config = Oaas_Deployment_OdgmConfig()
        config.collections = odgm.collections
        config.partitionCount = partitions
        config.replicaCount = replicas
        if let shardType = odgm.shardType { config.shardType = shardType }
        config.options = odgm.options
        if let log = odgm.log { config.log = log }
        if let mode = odgm.zenohMode { config.zenohMode = mode }
        for (name, ids) in odgm.envNodeIds {
            var nodeIds = Oaas_Deployment_OdgmNodeIds()
            nodeIds.ids = ids
            config.envNodeIds[name] = nodeIds
        }
        if let first = odgm.envNodeIds[env]?.first { config.odgmNodeID = first }
        let members = odgm.envNodeIds.keys.sorted().flatMap { odgm.envNodeIds[$0] ?? [] }
        for collection in odgm.collections {
            var assignments = Oaas_Deployment_CollectionShardAssignments()
            assignments.assignments = DeterministicIds.shardAssignments(nodeIds: members, partitionCount: partitions, replicaCount: replicas).map { shard in
                var spec = Oaas_Deployment_ShardAssignmentSpec()
                if let primary = shard.primary { spec.primary = primary }
                spec.replica = shard.replica
                spec.shardIds = shard.shardIds
                return spec
            }
            config.collectionAssignments[collection] = assignments
        }
        var routes = Oaas_Deployment_InvocationRoutes()
        for binding in cls.functionBindings {
            // An empty url with the function key asks the CRM to resolve the route (spec §8.2).
            var route = Oaas_Deployment_FunctionRoute()
            route.url = ""
            route.stateless = binding.stateless
            route.standby = false
            route.activeGroup = []
            route.functionKey = binding.functionKey
            routes.fnRoutes[binding.name] = route
        }
        config.invocations = routes
        var persistence = Oaas_Deployment_OdgmPersistence()
        persistence.enabled = cls.stateSpec?.persistent ?? false
        if let size = odgm.storageSize { persistence.size = size }
        if let storageClass = odgm.storageClass { persistence.storageClass = storageClass }
        config.persistence = persistence
        return config
    }

    private static func telemetry(_ telemetry: TelemetryConfig) -> Oaas_Common_TelemetrySpec {
        var proto = Oaas_Common_TelemetrySpec()
        proto.enabled = telemetry.enabled
        if let value = telemetry.traces { proto.traces = value }
        if let value = telemetry.metrics { proto.metrics = value }
        if let value = telemetry.logs { proto.logs = value }
        if let value = telemetry.samplingRate { proto.samplingRate = value }
        if let value = telemetry.serviceName { proto.serviceName = value }
        proto.resourceAttributes = telemetry.resourceAttributes
        return proto
    }

    private static func unitNfr(_ record: OClassDeployment, consistency: ConsistencyModel) -> Oaas_Deployment_UnitNfr {
        let nfr = record.nfrRequirements
        var proto = Oaas_Deployment_UnitNfr()
        if let value = nfr.minThroughputRps { proto.minThroughputRps = value }
        if let value = nfr.maxLatencyMs { proto.maxLatencyMs = value }
        if let value = nfr.availability { proto.availability = value }
        proto.consistency = consistency.unitNfrValue
        if let value = nfr.cpuUtilizationTarget { proto.cpuUtilizationTarget = value }
        if let enforcement = record.enforcement {
            proto.enforcementMode = enforcement.mode.rawValue
            proto.enforcementDimensions = enforcement.dimensions.map(\.rawValue)
        }
        return proto
    }
}
