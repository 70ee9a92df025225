import Foundation
import Logging
import Metrics
import OaaSCore
import OaaSProto
import Storage
import Synchronization

/// One ODGM node: its storage environments, its collections and the shards it hosts.
public final class ODGMNode: Sendable {
    /// A collection as this node serves it.
    public final class Collection: Sendable {
        public let spec: CollectionSpec
        /// Hosted shard of each partition (nil where another node hosts it).
        let shards: [(any ObjectShard)?]
        /// Where the collection's data lives (kept when its definition is replaced).
        let databases: ObjectDatabases

        init(spec: CollectionSpec, shards: [(any ObjectShard)?], databases: ObjectDatabases) {
            self.spec = spec
            self.shards = shards
            self.databases = databases
        }

        public var hostedShards: [any ObjectShard] { shards.compactMap { $0 } }
    }

    public let config: ODGMConfig
    let logger: Logger
    /// Triggers and change events, shared by the shards and the trigger dispatcher.
    let events: NodeEvents
    private let storage: StorageRegistry
    private let nodeStore: ObjectDatabases
    private let registryDB: Database
    private let collections = Mutex<[String: Collection]>([:])
    /// Serializes collection creation so concurrent first writes create a collection once.
    private let creation = Mutex<Void>(())
    /// Told of every collection definition this node starts serving (see `observeCollections`).
    private let collectionObservers = Mutex<[@Sendable (Oprc_CreateCollectionRequest) -> Void]>([])

    /// Opens the node's environment through `storage`, which owns it and closes it at shutdown.
    /// Change events of committed mutations go to `publisher` (spec §6.5).
    public init(config: ODGMConfig, storage: StorageRegistry, logger: Logger,
                publisher: any ChangeEventPublisher = DiscardingChangeEventPublisher(),
                metricsFactory: (any MetricsFactory)? = nil) throws {
        self.config = config
        self.logger = logger
        self.events = NodeEvents(settings: EventSettings(config: config), publisher: publisher,
                               metricsFactory: metricsFactory ?? MetricsSystem.factory, logger: logger)
        self.storage = storage
        let path = (config.dataDir as NSString).appendingPathComponent("node-\(config.nodeID)")
        try Self.checkWritable(config.dataDir)
        let handle = try storage.open(path: path, options: .init(mapSizeBytes: config.mapSizeMB << 20, maxDatabases: 8))
        nodeStore = try ObjectDatabases(environment: handle.environment, writer: handle.writer)
        registryDB = try handle.environment.openDatabase("collections")
    }

    /// Creates (or re-creates identically) the collections given in the configuration.
    public func start() throws {
        var problems: [String] = []
        for (index, request) in config.collections.enumerated() {
            do {
                try createCollection(request, path: "ODGM_COLLECTION[\(index)]")
            } catch let error as ConfigurationError {
                problems += error.problems
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }

    /// Loads the collections this node auto-created earlier (`oaas dev` keeps them with its data).
    public func loadStoredCollections() throws {
        let stored: [Oprc_CreateCollectionRequest] = try nodeStore.environment.read { txn in
            var items: [Oprc_CreateCollectionRequest] = []
            try txn.withCursor(registryDB) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    items.append(try Oprc_CreateCollectionRequest(serializedBytes: Array(current.value)))
                    entry = try cursor.next()
                }
            }
            return items
        }
        for request in stored where collection(named: request.name) == nil {
            try createCollection(request, path: "stored collection '\(request.name)'")
        }
    }

    /// Calls `observer` with every collection served now, then with each one created or whose definition is
    /// replaced (e.g. to preload its WASM modules). It runs while collection creation is serialized, so it must
    /// not block: start a task for slow work. A collection created during registration may be reported twice.
    public func observeCollections(_ observer: @escaping @Sendable (Oprc_CreateCollectionRequest) -> Void) {
        collectionObservers.withLock { $0.append(observer) }
        for collection in allCollections { observer(collection.spec.request) }
    }

    private func announce(_ request: Oprc_CreateCollectionRequest) {
        for observer in collectionObservers.withLock({ $0 }) { observer(request) }
    }

    public func collection(named name: String) -> Collection? {
        collections.withLock { $0[name] }
    }

    public var allCollections: [Collection] {
        collections.withLock { Array($0.values) }.sorted { $0.spec.name < $1.spec.name }
    }

    /// Validates and creates a collection; a name that exists already is a duplicate error unless
    /// the definition is identical.
    @discardableResult
    public func createCollection(_ request: Oprc_CreateCollectionRequest, path: String = "", persist: Bool = false) throws -> Collection {
        let spec = try CollectionSpec(request, members: config.members, path: path)
        for warning in spec.warnings { logger.warning("\(warning)") }
        return try creation.withLock { _ in
            if let existing = collection(named: spec.name) {
                if existing.spec.request == spec.request { return existing }
                throw ConfigurationError("\(path.isEmpty ? "collection" : path).name: duplicate collection '\(spec.name)'")
            }
            let store = try databases(for: spec)
            let shards = Self.hostedShards(spec: spec, nodeID: config.nodeID, store: store, events: events)
            if persist {
                let key = Array(spec.name.utf8)
                let value: [UInt8] = try spec.request.serializedBytes()
                try nodeStore.environment.writeDirect { txn in try txn.put(registryDB, key, value) }
            }
            let collection = Collection(spec: spec, shards: shards, databases: store)
            collections.withLock { $0[spec.name] = collection }
            announce(spec.request)
            return collection
        }
    }

    /// Swaps in a new definition with the same partition layout; data stays where it is.
    func replaceCollection(_ existing: Collection, with spec: CollectionSpec) throws {
        try creation.withLock { _ in
            let store = existing.databases
            let shards = Self.hostedShards(spec: spec, nodeID: config.nodeID, store: store, events: events)
            let key = Array(spec.name.utf8)
            let value: [UInt8] = try spec.request.serializedBytes()
            try nodeStore.environment.writeDirect { txn in try txn.put(registryDB, key, value) }
            collections.withLock { $0[spec.name] = Collection(spec: spec, shards: shards, databases: store) }
            announce(spec.request)
        }
    }

    /// Stops serving a collection and forgets its definition; `deleteData` also removes its objects,
    /// counters, async invocation records and pending trigger deliveries (one durable write transaction).
    func dropCollection(named name: String, deleteData: Bool) async throws {
        guard let existing = collection(named: name) else { return }
        collections.withLock { _ = $0.removeValue(forKey: name) }
        let key = Array(name.utf8)
        try nodeStore.environment.writeDirect { txn in _ = try txn.delete(registryDB, key) }
        guard deleteData else { return }
        var encoder = KeyEncoder()
        encoder.append(name)
        let prefix = encoder.bytes
        let store = existing.databases
        try await store.writer.write { txn in
            try txn.deletePrefix(store.objects, prefix)
            try txn.deletePrefix(store.counters, prefix)
            // Async records go too; their queue and expiry entries are dropped lazily when met.
            try txn.deletePrefix(store.asyncCalls, prefix)
            try txn.deletePrefix(store.outbox, prefix)
        }
    }

    static func hostedShards(spec: CollectionSpec, nodeID: UInt64, store: ObjectDatabases, events: NodeEvents) -> [(any ObjectShard)?] {
        spec.placements.enumerated().map { partition, replicas in
            replicas.first { $0.node == nodeID }.map {
                LocalShard(collection: spec.name, partition: UInt32(partition), shardID: $0.shardID, databases: store,
                           events: ShardEvents(hub: events, spec: spec, partition: UInt32(partition), databases: store))
            }
        }
    }

    public var isOpen: Bool { !nodeStore.environment.isClosed }

    public var writerStats: Writer.Stats { nodeStore.writer.stats }

    private func databases(for spec: CollectionSpec) throws -> ObjectDatabases {
        let path: String
        let durable: Bool
        switch (spec.options.storageBackend, spec.options.storagePath) {
        case (.lmdb, nil):
            return nodeStore
        case (.lmdb, let custom?):
            path = custom
            durable = true
        case (.memory, _):
            let scratch = config.scratchDir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-memory-\(ProcessInfo.processInfo.processIdentifier)")
            path = (scratch as NSString).appendingPathComponent("node-\(config.nodeID)-\(spec.name)")
            durable = false
            try? FileManager.default.removeItem(atPath: path)
        }
        let handle = try storage.open(path: path, options: .init(mapSizeBytes: config.mapSizeMB << 20, maxDatabases: 8, durable: durable))
        return try ObjectDatabases(environment: handle.environment, writer: handle.writer)
    }

    private static func checkWritable(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError("ODGM_DATA_DIR: cannot create '\(directory)': \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw ConfigurationError("ODGM_DATA_DIR: '\(directory)' is not writable")
        }
    }
}
