import Foundation
import OaaSCore
import OaaSProto
import Storage

/// The databases of one storage environment used by object data.
struct ObjectDatabases: Sendable {
    let environment: Environment
    let writer: Writer
    let objects: Database
    let counters: Database
    /// Async invocation records and per-partition pending counts, keyed under the partition prefix.
    let asyncCalls: Database
    /// Environment-wide async run queue and expiry index, ordered by time (see `AsyncKeys`).
    let asyncIndex: Database
    /// Pending trigger deliveries, committed with the mutations that cause them (see `OutboxKeys`).
    let outbox: Database

    init(environment: Environment, writer: Writer) throws {
        self.environment = environment
        self.writer = writer
        self.objects = try environment.openDatabase("objects")
        self.counters = try environment.openDatabase("counters")
        self.asyncCalls = try environment.openDatabase("async_calls")
        self.asyncIndex = try environment.openDatabase("async_index")
        self.outbox = try environment.openDatabase("trigger_outbox")
    }
}

/// A shard of type `none`: one replica, stored in the node's LMDB environment. Reads use their own
/// snapshot; writes go through the environment's group-committing writer and are acknowledged
/// once durable.
public final class LocalShard: ObjectShard {
    public let collection: String
    public let partition: UInt32
    public let shardID: UInt64
    public var isReady: Bool { !dbs.environment.isClosed }

    let dbs: ObjectDatabases
    /// Triggers and change events of this shard's mutations.
    let events: ShardEvents
    private let partitionPrefix: [UInt8]

    init(collection: String, partition: UInt32, shardID: UInt64, databases: ObjectDatabases, events: ShardEvents) {
        self.collection = collection
        self.partition = partition
        self.shardID = shardID
        self.dbs = databases
        self.events = events
        self.partitionPrefix = ObjectKeys.partitionPrefix(collection: collection, partition: partition)
    }

    // MARK: Reads

    public func get(_ id: ObjectID) async throws -> (object: Oprc_ObjData, version: UInt64) {
        let prefix = objectPrefix(id)
        return try dbs.environment.read { txn in
            guard let meta = try loadMeta(txn, prefix), meta.live else { throw notFound }
            return (try buildObject(txn, id: id, prefix: prefix, meta: meta), meta.version)
        }
    }

    public func getValue(_ id: ObjectID, key: EntryKey) async throws -> (value: Oprc_ValData?, version: UInt64) {
        let prefix = objectPrefix(id)
        return try dbs.environment.read { txn in
            guard let meta = try loadMeta(txn, prefix), meta.live else { throw notFound }
            let value = try txn.withValue(dbs.objects, ObjectKeys.entry(prefix, key)) { ValueRecord.decode($0) }
            return (value, meta.version)
        }
    }

    public func listValues(_ id: ObjectID, query: ValueListQuery) async throws -> ValuePage {
        let prefix = objectPrefix(id)
        let scope = PageCursor.scope("values", collection, String(partition), id.isString ? "s" : "n", id.description)
        let resume = try query.cursor.map { cursor throws(OaaSError) in try PageCursor.position(of: cursor, scope: scope) }
        return try dbs.environment.read { txn in
            guard let meta = try loadMeta(txn, prefix), meta.live else { throw notFound }
            var ranges: [[UInt8]] = []
            // A non-empty string prefix excludes numeric keys (spec §4.4).
            if query.kind != .string && query.prefix.isEmpty { ranges.append(prefix + [ObjectKeys.numericEntryTag]) }
            if query.kind != .numeric { ranges.append(prefix + [ObjectKeys.stringEntryTag] + Array(query.prefix.utf8)) }
            var items: [Oprc_ValueEnvelope] = []
            var hasMore = false
            try txn.withCursor(dbs.objects) { cursor in
                scan: for range in ranges {
                    var start = range
                    if let resume {
                        // Strictly after the cursor's key: no stored key contains 0x00 after it.
                        let resumeKey = prefix + resume + [0]
                        if !resumeKey.lexicographicallyPrecedes(range) { start = resumeKey }
                    }
                    var entry = try cursor.seek(atOrAfter: start)
                    while let current = entry, current.key.starts(with: range) {
                        if items.count == query.limit {
                            hasMore = true
                            break scan
                        }
                        if let key = ObjectKeys.entryKey(of: current.key, objectPrefixLength: prefix.count) {
                            var envelope = Oprc_ValueEnvelope()
                            switch key {
                            case .numeric(let value):
                                envelope.key = String(value)
                                envelope.numericKey = value
                            case .string(let value):
                                envelope.key = value
                            }
                            envelope.value = ValueRecord.decode(current.value)
                            envelope.version = meta.version
                            items.append(envelope)
                        }
                        entry = try cursor.next()
                    }
                }
            }
            if hasMore, let last = items.last {
                let position = ObjectKeys.entry([], last.hasNumericKey ? .numeric(last.numericKey) : .string(last.key))
                items[items.count - 1].nextCursor = Data(PageCursor.make(scope: scope, position: position))
            }
            return ValuePage(entries: items, version: meta.version)
        }
    }

    public func listObjects(query: ObjectListQuery) async throws -> [Oprc_ObjectMetaEnvelope] {
        let scope = PageCursor.scope("objects", collection, String(partition))
        let resume = try query.cursor.map { cursor throws(OaaSError) in try PageCursor.position(of: cursor, scope: scope) }
        let lowered = query.prefix.lowercased()
        return try dbs.environment.read { txn in
            var ranges: [[UInt8]] = []
            if query.kind != .string && lowered.isEmpty { ranges.append(partitionPrefix + [ObjectKeys.numericIdTag]) }
            if query.kind != .numeric { ranges.append(partitionPrefix + [ObjectKeys.stringIdTag] + Array(lowered.utf8)) }
            var items: [Oprc_ObjectMetaEnvelope] = []
            var lastID: ObjectID?
            var hasMore = false
            try txn.withCursor(dbs.objects) { cursor in
                scan: for range in ranges {
                    var start = range
                    if let resume {
                        // Past every record of the cursor's object.
                        let resumeKey = partitionPrefix + resume + [0xFF]
                        if !resumeKey.lexicographicallyPrecedes(range) { start = resumeKey }
                    }
                    var entry = try cursor.seek(atOrAfter: start)
                    while let current = entry, current.key.starts(with: range) {
                        guard let (id, tag, prefixLength) = ObjectKeys.objectID(of: current.key, partitionPrefixLength: partitionPrefix.count) else {
                            entry = try cursor.next()
                            continue
                        }
                        let objectPrefix = Array(current.key[0..<prefixLength])
                        if tag == ObjectKeys.metaTag {
                            let meta = try ObjectMeta.decode(current.value)
                            if meta.live {
                                if items.count == query.limit {
                                    hasMore = true
                                    break scan
                                }
                                var envelope = Oprc_ObjectMetaEnvelope()
                                switch id {
                                case .numeric(let value): envelope.objectID = value
                                case .string(let value): envelope.objectIDStr = value
                                }
                                envelope.version = meta.version
                                envelope.entryCount = meta.entryCount
                                items.append(envelope)
                                lastID = id
                            }
                        }
                        entry = try cursor.seek(atOrAfter: objectPrefix + [0xFF])
                    }
                }
            }
            if hasMore, let lastID {
                let position = Array(ObjectKeys.objectPrefix(partitionPrefix: [], id: lastID))
                items[items.count - 1].nextCursor = Data(PageCursor.make(scope: scope, position: position))
            }
            return items
        }
    }

    public func liveObjectCount() async throws -> UInt64 {
        let key = ObjectKeys.counter(partitionPrefix: partitionPrefix)
        return try dbs.environment.read { txn in
            try txn.withValue(dbs.counters, key) { bytes -> UInt64 in
                var reader = ValueReader(bytes)
                return reader.readUInt64() ?? 0
            } ?? 0
        }
    }

    // MARK: Writes

    public func set(_ id: ObjectID, entries: [EntryKey: Oprc_ValData], event: Oprc_ObjectEvent?, createOnly: Bool,
                    context: CallContext) async throws -> MutationResult {
        try await mutate(id, context) { txn, prefix, meta in
            if createOnly, let meta, meta.live {
                throw OaaSError(.alreadyExists, "object '\(id)' already exists")
            }
            var changes: [EntryChange] = []
            var count = meta?.live == true ? meta?.entryCount ?? 0 : 0
            if meta?.live == true {
                // Replace: stored entries that the request does not name are removed.
                for key in try self.storedKeys(txn, prefix) where entries[key] == nil {
                    try txn.delete(self.dbs.objects, ObjectKeys.entry(prefix, key))
                    changes.append(EntryChange(key: key, action: .delete, value: nil))
                    count -= 1
                }
            }
            for (key, value) in entries.sorted(by: { Self.order($0.key, $1.key) }) {
                let existed = try self.put(txn, prefix, key, value)
                changes.append(EntryChange(key: key, action: existed ? .update : .create, value: value))
                if !existed { count += 1 }
            }
            let storedEvent = meta?.live == true ? meta?.event : nil
            return (count, event ?? storedEvent, changes)
        }
    }

    public func merge(_ id: ObjectID, entries: [EntryKey: Oprc_ValData], event: Oprc_ObjectEvent?,
                      context: CallContext) async throws -> (MutationResult, Oprc_ObjData) {
        let prefix = objectPrefix(id)
        if entries.isEmpty && event == nil {
            // An empty merge is a no-op that returns the current object; it never creates.
            let (object, version) = try await get(id)
            return (.noop(version: version), object)
        }
        return try await writeMutationReturning(id, context) { [self] txn in
            let meta = try self.loadMeta(txn, prefix)
            let live = meta?.live == true
            var count = live ? meta?.entryCount ?? 0 : 0
            var changes: [EntryChange] = []
            for (key, value) in entries.sorted(by: { Self.order($0.key, $1.key) }) {
                let existed = try self.put(txn, prefix, key, value)
                changes.append(EntryChange(key: key, action: existed ? .update : .create, value: value))
                if !existed { count += 1 }
            }
            var merged = live ? meta?.event ?? Oprc_ObjectEvent() : Oprc_ObjectEvent()
            if let event {
                for (fn, trigger) in event.funcTrigger { merged.funcTrigger[fn] = trigger }
                for (key, trigger) in event.dataTrigger { merged.dataTrigger[key] = trigger }
                for (key, trigger) in event.dataTriggerStr { merged.dataTriggerStr[key] = trigger }
            }
            let newMeta = ObjectMeta(version: (meta?.version ?? 0) + 1, live: true, entryCount: count, event: merged.isEmpty ? nil : merged)
            try self.storeMeta(txn, prefix, newMeta, wasLive: live)
            let object = try self.buildObject(txn, id: id, prefix: prefix, meta: newMeta)
            let result = MutationResult(version: newMeta.version, mutated: true, objectCreated: !live, objectDeleted: false, changes: changes)
            return (result, live ? meta?.event : newMeta.event, object)
        }
    }

    public func delete(_ id: ObjectID, context: CallContext) async throws -> MutationResult {
        let prefix = objectPrefix(id)
        return try await writeMutation(id, context) { [self] txn in
            guard let meta = try self.loadMeta(txn, prefix), meta.live else { throw self.notFound }
            var changes: [EntryChange] = []
            for key in try self.storedKeys(txn, prefix) {
                try txn.delete(self.dbs.objects, ObjectKeys.entry(prefix, key))
                changes.append(EntryChange(key: key, action: .delete, value: nil))
            }
            // The tombstone keeps the version so a re-create continues from it (spec §2.2).
            let tombstone = ObjectMeta(version: meta.version + 1, live: false, entryCount: 0, event: nil)
            try self.storeMeta(txn, prefix, tombstone, wasLive: true)
            let result = MutationResult(version: tombstone.version, mutated: true, objectCreated: false, objectDeleted: true, changes: changes)
            return (result, meta.event)
        }
    }

    public func setValue(_ id: ObjectID, key: EntryKey, value: Oprc_ValData, context: CallContext) async throws -> MutationResult {
        try await mutate(id, context) { txn, prefix, meta in
            let live = meta?.live == true
            var count = live ? meta?.entryCount ?? 0 : 0
            let existed = try self.put(txn, prefix, key, value)
            if !existed { count += 1 }
            return (count, live ? meta?.event : nil, [EntryChange(key: key, action: existed ? .update : .create, value: value)])
        }
    }

    public func deleteValue(_ id: ObjectID, key: EntryKey, context: CallContext) async throws -> MutationResult {
        let prefix = objectPrefix(id)
        return try await writeMutation(id, context) { [self] txn in
            guard let meta = try self.loadMeta(txn, prefix), meta.live else { throw self.notFound }
            let entryKey = ObjectKeys.entry(prefix, key)
            guard try txn.get(self.dbs.objects, entryKey) != nil else { return (.noop(version: meta.version), nil) }
            try txn.delete(self.dbs.objects, entryKey)
            var updated = meta
            updated.version += 1
            updated.entryCount -= 1
            try self.storeMeta(txn, prefix, updated, wasLive: true)
            let result = MutationResult(version: updated.version, mutated: true, objectCreated: false, objectDeleted: false,
                                        changes: [EntryChange(key: key, action: .delete, value: nil)])
            return (result, meta.event)
        }
    }

    public func batch(_ id: ObjectID, sets: [EntryKey: Oprc_ValData], deletes: [EntryKey], expectedVersion: UInt64?,
                      context: CallContext) async throws -> MutationResult {
        let prefix = objectPrefix(id)
        return try await writeMutation(id, context) { [self] txn in
            let meta = try self.loadMeta(txn, prefix)
            let live = meta?.live == true
            let current = live ? meta?.version ?? 0 : 0
            if let expectedVersion {
                // CAS is checked in the same step as the write (spec §4.3).
                let matches = expectedVersion == 0 ? !live : (live && current == expectedVersion)
                if !matches {
                    throw OaaSError(.versionMismatch, "version mismatch: expected \(expectedVersion), current \(current)")
                }
            }
            if sets.isEmpty && !live { throw self.notFound }
            var count = live ? meta?.entryCount ?? 0 : 0
            var changes: [EntryChange] = []
            for key in deletes.sorted(by: Self.order) where live {
                if try txn.delete(self.dbs.objects, ObjectKeys.entry(prefix, key)) {
                    changes.append(EntryChange(key: key, action: .delete, value: nil))
                    count -= 1
                }
            }
            for (key, value) in sets.sorted(by: { Self.order($0.key, $1.key) }) {
                let existed = try self.put(txn, prefix, key, value)
                changes.append(EntryChange(key: key, action: existed ? .update : .create, value: value))
                if !existed { count += 1 }
            }
            if changes.isEmpty { return (.noop(version: meta?.version ?? 0), nil) }
            let newMeta = ObjectMeta(version: (meta?.version ?? 0) + 1, live: true, entryCount: count, event: live ? meta?.event : nil)
            try self.storeMeta(txn, prefix, newMeta, wasLive: live)
            let result = MutationResult(version: newMeta.version, mutated: true, objectCreated: !live, objectDeleted: false, changes: changes)
            return (result, newMeta.event)
        }
    }

    // MARK: Helpers

    /// A write that always steps the version and leaves the object live: `body` returns the new
    /// entry count, trigger config and changes; the metadata record and counters are written here.
    private func mutate(
        _ id: ObjectID,
        _ context: CallContext,
        _ body: @escaping @Sendable (WriteTransaction, [UInt8], ObjectMeta?) throws -> (UInt64, Oprc_ObjectEvent?, [EntryChange])
    ) async throws -> MutationResult {
        let prefix = objectPrefix(id)
        return try await writeMutation(id, context) { [self] txn in
            let meta = try self.loadMeta(txn, prefix)
            let wasLive = meta?.live == true
            let (count, event, changes) = try body(txn, prefix, meta)
            let newMeta = ObjectMeta(version: (meta?.version ?? 0) + 1, live: true, entryCount: count, event: event?.isEmpty == false ? event : nil)
            try self.storeMeta(txn, prefix, newMeta, wasLive: wasLive)
            let result = MutationResult(version: newMeta.version, mutated: true, objectCreated: !wasLive, objectDeleted: false, changes: changes)
            // Triggers consult the config stored before the mutation, or the new one on create (spec §6.1).
            return (result, wasLive ? meta?.event : newMeta.event)
        }
    }

    /// Runs `body` in one writer transaction together with the trigger deliveries it causes (the
    /// outbox commits with the mutation, spec §6.4), then hands the durable result to the events
    /// side. `body` returns the result, the trigger config to consult, and what the caller needs besides.
    private func writeMutationReturning<Extra: Sendable>(
        _ id: ObjectID,
        _ context: CallContext,
        _ body: @escaping @Sendable (WriteTransaction) throws -> (MutationResult, Oprc_ObjectEvent?, Extra)
    ) async throws -> (MutationResult, Extra) {
        let events = self.events
        let (result, extra, staged) = try await dbs.writer.write { txn in
            let (result, config, extra) = try body(txn)
            return (result, extra, try events.stage(txn, id: id, result: result, config: config, context: context))
        }
        if let staged { events.committed(staged, id: id, result: result, context: context) }
        return (result, extra)
    }

    private func writeMutation(
        _ id: ObjectID,
        _ context: CallContext,
        _ body: @escaping @Sendable (WriteTransaction) throws -> (MutationResult, Oprc_ObjectEvent?)
    ) async throws -> MutationResult {
        try await writeMutationReturning(id, context) { txn in
            let (result, config) = try body(txn)
            return (result, config, ())
        }.0
    }

    private func objectPrefix(_ id: ObjectID) -> [UInt8] {
        ObjectKeys.objectPrefix(partitionPrefix: partitionPrefix, id: id)
    }

    private var notFound: OaaSError { OaaSError(.noObject, "object not found") }

    private func loadMeta(_ txn: some TransactionProtocol, _ prefix: [UInt8]) throws -> ObjectMeta? {
        try txn.withValue(dbs.objects, ObjectKeys.meta(prefix)) { try ObjectMeta.decode($0) }
    }

    private func storeMeta(_ txn: WriteTransaction, _ prefix: [UInt8], _ meta: ObjectMeta, wasLive: Bool) throws {
        try txn.put(dbs.objects, ObjectKeys.meta(prefix), try meta.encoded())
        if wasLive != meta.live {
            let key = ObjectKeys.counter(partitionPrefix: partitionPrefix)
            let current: UInt64 = try txn.withValue(dbs.counters, key) { bytes -> UInt64 in
                var reader = ValueReader(bytes)
                return reader.readUInt64() ?? 0
            } ?? 0
            let next = meta.live ? current + 1 : (current > 0 ? current - 1 : 0)
            var writer = ValueWriter()
            writer.append(next)
            try txn.put(dbs.counters, key, writer.bytes)
        }
    }

    /// Writes one entry; returns whether the key existed before.
    private func put(_ txn: WriteTransaction, _ prefix: [UInt8], _ key: EntryKey, _ value: Oprc_ValData) throws -> Bool {
        let entryKey = ObjectKeys.entry(prefix, key)
        let existed = try txn.withValue(dbs.objects, entryKey) { _ in true } ?? false
        try txn.put(dbs.objects, entryKey, ValueRecord.encode(value))
        return existed
    }

    private func storedKeys(_ txn: some TransactionProtocol, _ prefix: [UInt8]) throws -> [EntryKey] {
        var keys: [EntryKey] = []
        try txn.withCursor(dbs.objects) { cursor in
            var entry = try cursor.seek(atOrAfter: prefix + [ObjectKeys.numericEntryTag])
            while let current = entry, current.key.starts(with: prefix) {
                if let key = ObjectKeys.entryKey(of: current.key, objectPrefixLength: prefix.count) { keys.append(key) }
                entry = try cursor.next()
            }
        }
        return keys
    }

    private func buildObject(_ txn: some TransactionProtocol, id: ObjectID, prefix: [UInt8], meta: ObjectMeta) throws -> Oprc_ObjData {
        var object = Oprc_ObjData()
        object.metadata.clsID = collection
        object.metadata.partitionID = partition
        switch id {
        case .numeric(let value): object.metadata.objectID = value
        case .string(let value): object.metadata.objectIDStr = value
        }
        if let event = meta.event { object.event = event }
        try txn.withCursor(dbs.objects) { cursor in
            var entry = try cursor.seek(atOrAfter: prefix + [ObjectKeys.numericEntryTag])
            while let current = entry, current.key.starts(with: prefix) {
                switch ObjectKeys.entryKey(of: current.key, objectPrefixLength: prefix.count) {
                case .numeric(let key): object.entries[key] = ValueRecord.decode(current.value)
                case .string(let key): object.entriesStr[key] = ValueRecord.decode(current.value)
                case nil: break
                }
                entry = try cursor.next()
            }
        }
        return object
    }

    /// Numeric keys first, then string keys by bytes: the storage order.
    static func order(_ a: EntryKey, _ b: EntryKey) -> Bool {
        switch (a, b) {
        case (.numeric(let x), .numeric(let y)): x < y
        case (.numeric, .string): true
        case (.string, .numeric): false
        case (.string(let x), .string(let y)): Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        }
    }
}

extension Oprc_ObjectEvent {
    /// A config without triggers is stored as no config at all.
    var isEmpty: Bool { funcTrigger.isEmpty && dataTrigger.isEmpty && dataTriggerStr.isEmpty }
}
