import Foundation
import OaaSCore
import OaaSProto

/// An in-memory ``ObjectStore`` with the observable semantics of spec §2–§4 that the REST layer
/// relies on. It records what it received, so tests can check what the gateway forwarded.
actor FakeObjectStore: ObjectStore {
    struct Key: Hashable {
        let cls: String
        let partition: UInt32
        let id: ObjectID
    }

    struct Stored {
        var version: UInt64 = 0
        var live = false
        var entries: [UInt32: Oprc_ValData] = [:]
        var entriesStr: [String: Oprc_ValData] = [:]
        var event: Oprc_ObjectEvent?
    }

    let partitionCount: UInt32
    private(set) var classes: Set<String>
    private(set) var objects: [Key: Stored] = [:]
    /// Every call as `name` plus the request, in order.
    private(set) var calls: [(name: String, request: any Sendable)] = []
    private(set) var contexts: [CallContext] = []
    /// The next this many calls fail with UNAVAILABLE before touching state.
    var failuresLeft = 0
    /// Each call waits this long first.
    var delay: Duration?

    init(classes: Set<String> = ["users", "items"], partitionCount: UInt32 = 4) {
        self.classes = classes
        self.partitionCount = partitionCount
    }

    func failNext(_ count: Int) { failuresLeft = count }
    func setDelay(_ delay: Duration?) { self.delay = delay }
    var callNames: [String] { calls.map(\.name) }
    func lastRequest<T: Sendable>(_ type: T.Type) -> T? { calls.last?.request as? T }

    // MARK: ObjectStore

    func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        try await enter("get", request, context)
        let key = try key(request.clsID, request.partitionID, request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let stored = try live(key)
        return response(key, stored)
    }

    func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64 {
        try await enter("set", request, context)
        let key = try key(request.clsID, UInt32(request.partitionID), request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        var stored = objects[key] ?? Stored()
        if stored.live, key.id.isString {
            throw OaaSError(.alreadyExists, "object '\(key.id)' already exists")
        }
        stored.entries = request.object.entries
        stored.entriesStr = request.object.entriesStr
        if request.object.hasEvent { stored.event = request.object.event }
        stored.live = true
        stored.version += 1
        objects[key] = stored
        return stored.version
    }

    func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        try await enter("merge", request, context)
        let key = try key(request.clsID, UInt32(request.partitionID), request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        var stored = objects[key] ?? Stored()
        if !stored.live {
            stored = Stored(version: stored.version)
        }
        let mutates = !request.object.entries.isEmpty || !request.object.entriesStr.isEmpty || request.object.hasEvent
        if !mutates {
            return response(key, try live(key))
        }
        stored.entries.merge(request.object.entries) { $1 }
        stored.entriesStr.merge(request.object.entriesStr) { $1 }
        stored.live = true
        stored.version += 1
        objects[key] = stored
        return response(key, stored)
    }

    func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64 {
        try await enter("delete", request, context)
        let key = try key(request.clsID, request.partitionID, request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        var stored = try live(key)
        stored = Stored(version: stored.version + 1, live: false)
        objects[key] = stored
        return stored.version
    }

    func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse {
        try await enter("getValue", request, context)
        let key = try key(request.clsID, request.partitionID, request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let stored = try live(key)
        var response = Oprc_ValueResponse()
        response.objectVersion = stored.version
        if request.hasKeyStr {
            response.key = request.keyStr
            if let value = stored.entriesStr[request.keyStr] { response.value = value }
        } else {
            response.key = String(request.key)
            if let value = stored.entries[request.key] { response.value = value }
        }
        return response
    }

    func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64 {
        try await enter("setValue", request, context)
        let key = try key(request.clsID, UInt32(request.partitionID), request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        var stored = objects[key] ?? Stored()
        if !stored.live { stored = Stored(version: stored.version, live: true) }
        if request.hasKeyStr {
            stored.entriesStr[request.keyStr] = request.value
        } else {
            stored.entries[request.key] = request.value
        }
        stored.version += 1
        objects[key] = stored
        return stored.version
    }

    func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64 {
        try await enter("deleteValue", request, context)
        let key = try key(request.clsID, request.partitionID, request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        var stored = try live(key)
        let removed = request.hasKeyStr ? stored.entriesStr.removeValue(forKey: request.keyStr) : stored.entries.removeValue(forKey: request.key)
        if removed != nil {
            stored.version += 1
            objects[key] = stored
        }
        return stored.version
    }

    func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64 {
        try await enter("batchSetValues", request, context)
        let key = try key(request.clsID, request.partitionID, request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        var stored = objects[key] ?? Stored()
        let current = stored.live ? stored.version : 0
        if request.hasExpectedObjectVersion, request.expectedObjectVersion != current || (current != 0 && !stored.live) {
            throw OaaSError(.versionMismatch, "version mismatch: expected \(request.expectedObjectVersion), current \(current)")
        }
        let sets = !request.values.isEmpty || !request.valuesNum.isEmpty
        if !stored.live {
            if !sets { throw OaaSError(.noObject, "object not found") }
            stored = Stored(version: stored.version, live: true)
        }
        var changed = sets
        stored.entriesStr.merge(request.values) { $1 }
        stored.entries.merge(request.valuesNum) { $1 }
        for key in request.deleteKeys where stored.entriesStr.removeValue(forKey: key) != nil { changed = true }
        for key in request.deleteKeysNum where stored.entries.removeValue(forKey: key) != nil { changed = true }
        if changed { stored.version += 1 }
        objects[key] = stored
        return stored.version
    }

    func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage {
        try await enter("listValues", request, context)
        let key = try key(request.clsID, request.partitionID, request.objectID, request.hasObjectIDStr ? request.objectIDStr : nil)
        let stored = try live(key)
        var all: [Oprc_ValueEnvelope] = []
        let prefix = request.hasKeyPrefix ? request.keyPrefix : ""
        if request.keyKind != .string, prefix.isEmpty {
            for (entryKey, value) in stored.entries.sorted(by: { $0.key < $1.key }) {
                var envelope = Oprc_ValueEnvelope()
                envelope.key = String(entryKey)
                envelope.numericKey = entryKey
                envelope.value = value
                envelope.version = stored.version
                all.append(envelope)
            }
        }
        if request.keyKind != .numeric {
            for (entryKey, value) in stored.entriesStr.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }) where entryKey.hasPrefix(prefix) {
                var envelope = Oprc_ValueEnvelope()
                envelope.key = entryKey
                envelope.value = value
                envelope.version = stored.version
                all.append(envelope)
            }
        }
        var page = try paginate(all, cursor: request.hasCursor ? request.cursor : nil, limit: request.limit)
        if let next = page.next, !page.items.isEmpty {
            page.items[page.items.count - 1].nextCursor = next
        }
        return ValuePage(entries: page.items, version: stored.version)
    }

    func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope] {
        try await enter("listObjects", request, context)
        try checkClass(request.clsID, request.partitionID)
        let prefix = request.hasObjectIDPrefix ? request.objectIDPrefix.lowercased() : ""
        let mine = objects.filter { $0.key.cls == request.clsID && $0.key.partition == request.partitionID && $0.value.live }
        var numeric: [(UInt64, Stored)] = []
        var strings: [(String, Stored)] = []
        for (key, stored) in mine {
            switch key.id {
            case .numeric(let id): numeric.append((id, stored))
            case .string(let id): strings.append((id, stored))
            }
        }
        var all: [Oprc_ObjectMetaEnvelope] = []
        if request.kind != .string, prefix.isEmpty {
            for (id, stored) in numeric.sorted(by: { $0.0 < $1.0 }) {
                var envelope = Oprc_ObjectMetaEnvelope()
                envelope.objectID = id
                envelope.version = stored.version
                envelope.entryCount = UInt64(stored.entries.count + stored.entriesStr.count)
                all.append(envelope)
            }
        }
        if request.kind != .numeric {
            for (id, stored) in strings.sorted(by: { Array($0.0.utf8).lexicographicallyPrecedes($1.0.utf8) }) where id.hasPrefix(prefix) {
                var envelope = Oprc_ObjectMetaEnvelope()
                envelope.objectIDStr = id
                envelope.version = stored.version
                envelope.entryCount = UInt64(stored.entries.count + stored.entriesStr.count)
                all.append(envelope)
            }
        }
        var page = try paginate(all, cursor: request.hasCursor ? request.cursor : nil, limit: request.limit)
        if let next = page.next, !page.items.isEmpty {
            page.items[page.items.count - 1].nextCursor = next
        }
        return page.items
    }

    func stats(context: CallContext) async throws -> Oprc_StatsResponse {
        try await enter("stats", Oprc_StatsRequest(), context)
        var response = Oprc_StatsResponse()
        for cls in classes.sorted() {
            for partition in 0..<partitionCount {
                var shard = Oprc_ShardStats()
                shard.collection = cls
                shard.partitionID = partition
                shard.shardID = UInt64(partition + 1)
                shard.count = UInt64(objects.filter { $0.key.cls == cls && $0.key.partition == partition && $0.value.live }.count)
                response.shards.append(shard)
            }
        }
        return response
    }

    func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse {
        try await enter("capabilities", Oprc_CapabilitiesRequest(), context)
        var response = Oprc_CapabilitiesResponse()
        response.stringIds = true
        response.stringEntryKeys = true
        response.granularEntryStorage = true
        response.eventPipelineV2 = false
        return response
    }

    // MARK: Helpers

    private func enter(_ name: String, _ request: any Sendable, _ context: CallContext) async throws {
        calls.append((name, request))
        contexts.append(context)
        if let delay { try await Task.sleep(for: delay) }
        if failuresLeft > 0 {
            failuresLeft -= 1
            throw OaaSError(.unavailable, "shard not ready")
        }
    }

    private func checkClass(_ cls: String, _ partition: UInt32) throws {
        if cls.isEmpty { throw OaaSError(.invalidArgument, "cls_id required") }
        guard classes.contains(cls) else { throw OaaSError(.noClass, "class '\(cls)' not found") }
        guard partition < partitionCount else {
            throw OaaSError(.noPartition, "partition \(partition) not found in class '\(cls)' (partition_count \(partitionCount))")
        }
    }

    private func key(_ cls: String, _ partition: UInt32, _ numeric: UInt64, _ string: String?) throws -> Key {
        // The gateway must have normalized the id already; check again like ODGM does.
        let id = try IdentityRules().objectID(numeric: numeric, string: string)
        try checkClass(cls, partition)
        return Key(cls: cls, partition: partition, id: id)
    }

    private func live(_ key: Key) throws -> Stored {
        guard let stored = objects[key], stored.live else { throw OaaSError(.noObject, "object not found") }
        return stored
    }

    private func response(_ key: Key, _ stored: Stored) -> Oprc_ObjectResponse {
        var object = Oprc_ObjData()
        object.metadata.clsID = key.cls
        object.metadata.partitionID = key.partition
        switch key.id {
        case .numeric(let id): object.metadata.objectID = id
        case .string(let id): object.metadata.objectIDStr = id
        }
        object.entries = stored.entries
        object.entriesStr = stored.entriesStr
        if let event = stored.event { object.event = event }
        var response = Oprc_ObjectResponse()
        response.obj = object
        response.objectVersion = stored.version
        return response
    }

    /// Cursor = `fake:<index>`; anything else is invalid.
    private func paginate<T>(_ all: [T], cursor: Data?, limit: UInt32) throws -> (items: [T], next: Data?) {
        var start = 0
        if let cursor {
            guard let text = String(data: cursor, encoding: .utf8), text.hasPrefix("fake:"),
                  let index = Int(text.dropFirst(5)), index >= 0, index <= all.count else {
                throw OaaSError(.invalidArgument, "invalid cursor")
            }
            start = index
        }
        let count = Int(limit == 0 ? 100 : min(limit, 1000))
        let end = min(all.count, start + count)
        let next = end < all.count ? Data("fake:\(end)".utf8) : nil
        return (Array(all[start..<end]), next)
    }
}
