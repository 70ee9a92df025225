import Foundation
import OaaSProto

/// One hosted shard: (partition, shard id, primary, ready).
typealias ShardSpec = (pid: UInt32, shard: UInt64, primary: Bool, ready: Bool)

func hostedShard(_ cls: String, _ spec: ShardSpec) -> Oaas_Router_HostedShard {
    var shard = Oaas_Router_HostedShard()
    shard.clsID = cls
    shard.partitionID = spec.pid
    shard.shardID = spec.shard
    shard.primary = spec.primary
    shard.ready = spec.ready
    return shard
}

func collectionConfig(_ cls: String, partitions: Int32, replicas: Int32 = 1, shardType: String = "none",
                      functions: [String: String] = [:], options: [String: String] = [:]) -> Oprc_CreateCollectionRequest {
    var config = Oprc_CreateCollectionRequest()
    config.name = cls
    config.partitionCount = partitions
    config.replicaCount = replicas
    config.shardType = shardType
    config.options = options
    if !functions.isEmpty {
        var invocations = Oprc_InvocationRoute()
        for (fn, url) in functions {
            var route = Oprc_FuncInvokeRoute()
            route.url = url
            route.stateless = true
            invocations.fnRoutes[fn] = route
        }
        config.invocations = invocations
    }
    return config
}

/// An ODGM node's registration hosting `shards` of `cls`.
func odgmRegistration(instance: String, address: String, nodeID: UInt64 = 1, env: String = "",
                      cls: String, partitions: Int32, shards: [ShardSpec],
                      functions: [String: String] = [:], options: [String: String] = [:]) -> Oaas_Router_RegisterRequest {
    var request = Oaas_Router_RegisterRequest()
    request.instanceID = instance
    request.role = .odgm
    request.address = address
    request.env = env
    request.odgmNodeID = nodeID
    request.collections = [collectionConfig(cls, partitions: partitions, functions: functions, options: options)]
    request.shards = shards.map { hostedShard(cls, $0) }
    return request
}

func changeEvent(_ cls: String, pid: UInt32, id: UInt64? = nil, idStr: String? = nil, version: UInt64 = 1,
                 value: String = "v") -> Oaas_Router_ObjectChangeEvent {
    var event = Oaas_Router_ObjectChangeEvent()
    event.eventID = UUID().uuidString
    event.clsID = cls
    event.partitionID = pid
    if let id { event.objectID = id }
    if let idStr { event.objectIDStr = idStr }
    event.version = version
    event.source = .local
    var change = Oaas_Router_EntryChange()
    change.keyStr = "k"
    change.action = .update
    var data = Oprc_ValData()
    data.data = Data(value.utf8)
    change.value = data
    event.changes = [change]
    event.changedTotal = 1
    return event
}

func publishRequest(_ events: [Oaas_Router_ObjectChangeEvent]) -> Oaas_Router_PublishRequest {
    var request = Oaas_Router_PublishRequest()
    request.events = events
    return request
}
