import Foundation
import Logging
import Metrics
import OaaSCore
import OaaSProto

/// ODGM's implementation of the DataService semantics: validates each call in the spec's order
/// (shape → ids and keys → class → partition → switches → CAS → state, §4.6) and runs it on the
/// shard that hosts the partition.
public final class ObjectService: ObjectStore {
    public let node: ODGMNode
    private let rules: IdentityRules
    /// `oaas dev`: a data write to an unknown class creates it (spec §9.7).
    private let autoCreate: Bool
    private let logger: Logger
    private let metrics = ODGMMetrics()

    public init(node: ODGMNode, autoCreate: Bool, logger: Logger) {
        self.node = node
        self.rules = IdentityRules(maxStringIdLength: node.config.maxStringIdLength)
        self.autoCreate = autoCreate
        self.logger = logger
    }

    // MARK: ObjectStore

    public func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let shard = try await shard(request.clsID, request.partitionID, write: false)
        metrics.get(id)
        let (object, version) = try await shard.get(id)
        var response = Oprc_ObjectResponse()
        response.obj = object
        response.objectVersion = version
        return response
    }

    public func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64 {
        guard request.hasObject else { throw OaaSError(.invalidArgument, "object required") }
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let (entries, event) = try content(of: request.object)
        let partition = try partitionID(request.partitionID)
        let shard = try await shard(request.clsID, partition, write: true)
        try await checkSwitches(id: id, keys: entries.keys, shard: shard)
        let result = try await shard.set(id, entries: entries, event: event, createOnly: id.isString, context: context)
        metrics.set(id, result)
        return result.version
    }

    public func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        guard request.hasObject else { throw OaaSError(.invalidArgument, "object required") }
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let (entries, event) = try content(of: request.object)
        let partition = try partitionID(request.partitionID)
        let shard = try await shard(request.clsID, partition, write: !entries.isEmpty || event != nil)
        try await checkSwitches(id: id, keys: entries.keys, shard: shard)
        let (result, object) = try await shard.merge(id, entries: entries, event: event, context: context)
        metrics.mutation(id, result)
        var response = Oprc_ObjectResponse()
        response.obj = object
        response.objectVersion = result.version
        return response
    }

    public func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64 {
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let shard = try await shard(request.clsID, request.partitionID, write: false)
        let result = try await shard.delete(id, context: context)
        metrics.mutation(id, result)
        return result.version
    }

    public func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse {
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let key = try rules.entryKey(numeric: request.key, string: request.hasKeyStr ? request.keyStr : nil)
        let shard = try await shard(request.clsID, request.partitionID, write: false)
        try checkKeySwitch([key])
        metrics.get(id)
        let (value, version) = try await shard.getValue(id, key: key)
        var response = Oprc_ValueResponse()
        if let value { response.value = value }
        response.objectVersion = version
        response.key = key.description
        return response
    }

    public func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64 {
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let key = try rules.entryKey(numeric: request.key, string: request.hasKeyStr ? request.keyStr : nil)
        guard request.hasValue else { throw OaaSError(.invalidArgument, "value required") }
        let partition = try partitionID(request.partitionID)
        let shard = try await shard(request.clsID, partition, write: true)
        try await checkSwitches(id: id, keys: [key], shard: shard)
        let result = try await shard.setValue(id, key: key, value: request.value, context: context)
        metrics.mutation(id, result)
        return result.version
    }

    public func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64 {
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let key = try rules.entryKey(numeric: request.key, string: request.hasKeyStr ? request.keyStr : nil)
        let shard = try await shard(request.clsID, request.partitionID, write: false)
        try checkKeySwitch([key])
        let result = try await shard.deleteValue(id, key: key, context: context)
        metrics.mutation(id, result)
        return result.version
    }

    public func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64 {
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        var sets: [EntryKey: Oprc_ValData] = [:]
        for (key, value) in request.values {
            try rules.validateStringKey(key, field: "values key")
            sets[.string(key)] = value
        }
        for (key, value) in request.valuesNum { sets[.numeric(key)] = value }
        var deletes: [EntryKey] = []
        for key in request.deleteKeys {
            try rules.validateStringKey(key, field: "delete_keys entry")
            deletes.append(.string(key))
        }
        deletes += request.deleteKeysNum.map { .numeric($0) }
        for key in deletes where sets[key] != nil {
            throw OaaSError(.invalidArgument, "key '\(key)' is both set and deleted")
        }
        let shard = try await shard(request.clsID, request.partitionID, write: !sets.isEmpty)
        try await checkSwitches(id: id, keys: sets.keys + deletes, shard: shard, creates: !sets.isEmpty)
        let result = try await shard.batch(id, sets: sets, deletes: deletes,
                                           expectedVersion: request.hasExpectedObjectVersion ? request.expectedObjectVersion : nil,
                                           context: context)
        metrics.mutation(id, result)
        return result.version
    }

    public func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage {
        let id = try objectID(request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        if request.hasKeyPrefix, request.keyPrefix.utf8.contains(0) {
            throw OaaSError(.invalidArgument, "key_prefix must not contain U+0000")
        }
        let shard = try await shard(request.clsID, request.partitionID, write: false)
        let query = ValueListQuery(kind: request.keyKind, prefix: request.hasKeyPrefix ? request.keyPrefix : "",
                                   limit: Self.pageLimit(request.limit), cursor: request.hasCursor ? Array(request.cursor) : nil)
        return try await shard.listValues(id, query: query)
    }

    public func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope] {
        let shard = try await shard(request.clsID, request.partitionID, write: false)
        var prefix = request.hasObjectIDPrefix ? request.objectIDPrefix : ""
        // A prefix no id can have (NUL) matches nothing rather than being rejected.
        if prefix.utf8.contains(0) { prefix = "\u{1}\u{1}" }
        let query = ObjectListQuery(kind: request.kind, prefix: prefix, limit: Self.pageLimit(request.limit),
                                    cursor: request.hasCursor ? Array(request.cursor) : nil)
        return try await shard.listObjects(query: query)
    }

    public func stats(context: CallContext) async throws -> Oprc_StatsResponse {
        var response = Oprc_StatsResponse()
        for collection in node.allCollections {
            for shard in collection.hostedShards {
                var stats = Oprc_ShardStats()
                stats.collection = shard.collection
                stats.partitionID = shard.partition
                stats.shardID = shard.shardID
                stats.count = try await shard.liveObjectCount()
                response.shards.append(stats)
            }
        }
        return response
    }

    public func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse {
        var response = Oprc_CapabilitiesResponse()
        response.stringIds = node.config.enableStringIds
        response.stringEntryKeys = node.config.enableStringEntryKeys
        response.granularEntryStorage = true
        // This build delivers triggers and change events (spec §4.5, §6).
        response.eventPipelineV2 = node.config.eventsEnabled
        return response
    }

    // MARK: Validation

    static func pageLimit(_ limit: UInt32) -> Int {
        limit == 0 ? 100 : Int(min(limit, 1000))
    }

    private func objectID(_ numeric: UInt64, _ string: String?) throws(OaaSError) -> ObjectID {
        try rules.objectID(numeric: numeric, string: string)
    }

    private func partitionID(_ raw: Int32) throws(OaaSError) -> UInt32 {
        guard raw >= 0 else { throw OaaSError(.invalidArgument, "partition_id must not be negative (got \(raw))") }
        return UInt32(raw)
    }

    /// Entries and trigger config of a Set/Merge body, with string keys and trigger targets checked.
    private func content(of object: Oprc_ObjData) throws(OaaSError) -> ([EntryKey: Oprc_ValData], Oprc_ObjectEvent?) {
        var entries: [EntryKey: Oprc_ValData] = [:]
        for (key, value) in object.entries { entries[.numeric(key)] = value }
        for (key, value) in object.entriesStr {
            try rules.validateStringKey(key, field: "entries_str key")
            entries[.string(key)] = value
        }
        guard object.hasEvent else { return (entries, nil) }
        var event = object.event
        for (fn, trigger) in event.funcTrigger {
            var trigger = trigger
            trigger.onComplete = try trigger.onComplete.map { target throws(OaaSError) in try validated(target, at: "event.func_trigger.\(fn).on_complete") }
            trigger.onError = try trigger.onError.map { target throws(OaaSError) in try validated(target, at: "event.func_trigger.\(fn).on_error") }
            event.funcTrigger[fn] = trigger
        }
        for (key, trigger) in event.dataTrigger {
            event.dataTrigger[key] = try validated(trigger, at: "event.data_trigger.\(key)")
        }
        for (key, trigger) in event.dataTriggerStr {
            try rules.validateStringKey(key, field: "event.data_trigger_str key")
            event.dataTriggerStr[key] = try validated(trigger, at: "event.data_trigger_str.\(key)")
        }
        return (entries, event)
    }

    private func validated(_ trigger: Oprc_DataTrigger, at path: String) throws(OaaSError) -> Oprc_DataTrigger {
        var trigger = trigger
        trigger.onCreate = try trigger.onCreate.map { target throws(OaaSError) in try validated(target, at: "\(path).on_create") }
        trigger.onUpdate = try trigger.onUpdate.map { target throws(OaaSError) in try validated(target, at: "\(path).on_update") }
        trigger.onDelete = try trigger.onDelete.map { target throws(OaaSError) in try validated(target, at: "\(path).on_delete") }
        return trigger
    }

    private func validated(_ target: Oprc_TriggerTarget, at path: String) throws(OaaSError) -> Oprc_TriggerTarget {
        var target = target
        if target.clsID.isEmpty { throw OaaSError(.invalidArgument, "\(path).cls_id must not be empty") }
        if target.fnID.isEmpty { throw OaaSError(.invalidArgument, "\(path).fn_id must not be empty") }
        if target.hasObjectID && target.hasObjectIDStr {
            throw OaaSError(.invalidArgument, "\(path): exactly one of object_id or object_id_str may be set")
        }
        if target.hasObjectIDStr {
            do {
                target.objectIDStr = try rules.normalize(target.objectIDStr)
            } catch {
                throw OaaSError(.invalidArgument, "\(path).\(error.message)")
            }
        }
        return target
    }

    /// The shard serving `(cls, partition)` here; in dev mode a write to an unknown class creates it.
    private func shard(_ cls: String, _ partition: UInt32, write: Bool) async throws -> any ObjectShard {
        if cls.isEmpty { throw OaaSError(.invalidArgument, "cls_id required") }
        var collection = node.collection(named: cls)
        if collection == nil, write, autoCreate {
            guard partition < node.config.defaultPartitions else {
                throw OaaSError(.noPartition, "partition \(partition) not found in class '\(cls)' (partition_count \(node.config.defaultPartitions))")
            }
            collection = try autoCreateCollection(cls)
        }
        guard let collection else { throw OaaSError(.noClass, "class '\(cls)' not found") }
        guard partition < collection.spec.partitionCount else {
            throw OaaSError(.noPartition, "partition \(partition) not found in class '\(cls)' (partition_count \(collection.spec.partitionCount))")
        }
        guard let shard = collection.shards[Int(partition)] else {
            throw OaaSError(.unavailable, "no route for \(cls)/\(partition)")
        }
        guard shard.isReady else { throw OaaSError(.unavailable, "shard \(shard.shardID) of \(cls)/\(partition) is not ready") }
        return shard
    }

    private func autoCreateCollection(_ cls: String) throws -> ODGMNode.Collection {
        if let existing = node.collection(named: cls) { return existing }
        var request = Oprc_CreateCollectionRequest()
        request.name = cls
        request.partitionCount = Int32(node.config.defaultPartitions)
        request.replicaCount = 1
        request.shardType = "none"
        do {
            let before = node.collection(named: cls)
            let collection = try node.createCollection(request, persist: true)
            if before == nil {
                logger.info("collection '\(cls)' auto-created with \(node.config.defaultPartitions) partitions (oaas dev)")
            }
            return collection
        } catch let error as ConfigurationError {
            throw OaaSError(.invalidArgument, error.description)
        }
    }

    private func checkKeySwitch(_ keys: some Sequence<EntryKey>) throws(OaaSError) {
        guard !node.config.enableStringEntryKeys else { return }
        for key in keys {
            if case .string = key { throw OaaSError(.unimplemented, "string entry keys disabled") }
        }
    }

    /// Rollback switches (spec §1.1 `enabled`, §1.2): with string ids off, only creating a
    /// string-id object is refused; existing ones stay writable.
    private func checkSwitches(id: ObjectID, keys: some Sequence<EntryKey>, shard: any ObjectShard, creates: Bool = true) async throws {
        try checkKeySwitch(keys)
        guard !node.config.enableStringIds, creates, case .string = id else { return }
        do {
            _ = try await shard.get(id)
        } catch let error as OaaSError where error.code == .noObject {
            throw OaaSError(.unimplemented, "string object ids disabled")
        }
    }
}

/// ODGM's metrics of spec §11.2, created once.
struct ODGMMetrics: Sendable {
    private let setNumeric = Counter(label: "odgm_object_set_total", dimensions: [("variant", "numeric")])
    private let setString = Counter(label: "odgm_object_set_total", dimensions: [("variant", "string")])
    private let createdNumeric = Counter(label: "odgm_objects_created_total", dimensions: [("variant", "numeric")])
    private let createdString = Counter(label: "odgm_objects_created_total", dimensions: [("variant", "string")])
    private let getNumeric = Counter(label: "odgm_get_total", dimensions: [("variant", "numeric")])
    private let getString = Counter(label: "odgm_get_total", dimensions: [("variant", "string")])
    private let entryNumeric = Counter(label: "odgm_entry_mutations_total", dimensions: [("key_variant", "numeric")])
    private let entryString = Counter(label: "odgm_entry_mutations_total", dimensions: [("key_variant", "string")])

    func get(_ id: ObjectID) {
        (id.isString ? getString : getNumeric).increment()
    }

    func set(_ id: ObjectID, _ result: MutationResult) {
        (id.isString ? setString : setNumeric).increment()
        mutation(id, result)
    }

    func mutation(_ id: ObjectID, _ result: MutationResult) {
        if result.objectCreated { (id.isString ? createdString : createdNumeric).increment() }
        var numeric = 0
        var string = 0
        for change in result.changes {
            if case .numeric = change.key { numeric += 1 } else { string += 1 }
        }
        if numeric > 0 { entryNumeric.increment(by: numeric) }
        if string > 0 { entryString.increment(by: string) }
    }
}
