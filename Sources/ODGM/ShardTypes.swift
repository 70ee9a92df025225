import OaaSCore
import OaaSProto

/// What one mutation did to one entry (the input of triggers and change events).
public struct EntryChange: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case create, update, delete
    }

    public var key: EntryKey
    public var action: Action
    public var value: Oprc_ValData?
}

/// The outcome of a write call on a shard.
public struct MutationResult: Sendable {
    /// The object version after the call (the current one after a no-op).
    public var version: UInt64
    /// False for a no-op (no version step, no events).
    public var mutated: Bool
    public var objectCreated: Bool
    public var objectDeleted: Bool
    public var changes: [EntryChange]

    static func noop(version: UInt64) -> MutationResult {
        MutationResult(version: version, mutated: false, objectCreated: false, objectDeleted: false, changes: [])
    }
}

/// Filters and position of one ListValues page.
public struct ValueListQuery: Sendable {
    public var kind: Oprc_EntryKeyKind
    public var prefix: String
    public var limit: Int
    public var cursor: [UInt8]?
}

/// Filters and position of one ListObjects page.
public struct ObjectListQuery: Sendable {
    public var kind: Oprc_ObjectIdKind
    public var prefix: String
    public var limit: Int
    public var cursor: [UInt8]?
}

/// One replica of one partition. `none` shards implement it over local LMDB; replicated shard
/// types implement the same contract, so the service layer does not care which one it talks to.
///
/// Inputs are already validated (ids normalized, keys checked, partition in range); shards check
/// what depends on stored state (CAS, existence) and report it as ``OaaSError``s.
public protocol ObjectShard: Sendable {
    var collection: String { get }
    var partition: UInt32 { get }
    var shardID: UInt64 { get }
    /// False while the shard cannot serve (callers answer UNAVAILABLE).
    var isReady: Bool { get }

    func get(_ id: ObjectID) async throws -> (object: Oprc_ObjData, version: UInt64)
    // Writes take the call's context: its trigger depth and trace travel with the deliveries the
    // mutation causes (spec §6.3).
    func set(_ id: ObjectID, entries: [EntryKey: Oprc_ValData], event: Oprc_ObjectEvent?, createOnly: Bool, context: CallContext) async throws -> MutationResult
    func merge(_ id: ObjectID, entries: [EntryKey: Oprc_ValData], event: Oprc_ObjectEvent?, context: CallContext) async throws -> (MutationResult, Oprc_ObjData)
    func delete(_ id: ObjectID, context: CallContext) async throws -> MutationResult
    func getValue(_ id: ObjectID, key: EntryKey) async throws -> (value: Oprc_ValData?, version: UInt64)
    func setValue(_ id: ObjectID, key: EntryKey, value: Oprc_ValData, context: CallContext) async throws -> MutationResult
    func deleteValue(_ id: ObjectID, key: EntryKey, context: CallContext) async throws -> MutationResult
    func batch(_ id: ObjectID, sets: [EntryKey: Oprc_ValData], deletes: [EntryKey], expectedVersion: UInt64?, context: CallContext) async throws -> MutationResult
    func listValues(_ id: ObjectID, query: ValueListQuery) async throws -> ValuePage
    func listObjects(query: ObjectListQuery) async throws -> [Oprc_ObjectMetaEnvelope]
    func liveObjectCount() async throws -> UInt64
}
