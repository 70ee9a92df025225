/// The ODGM data section of a deployment (spec §2.3); PM fills what is absent (spec §5.1–5.3).
public struct OdgmDataSpec: Sendable, Equatable, Codable {
    /// Collection names; empty = `["{pkg}.{class}"]`.
    public var collections: [String]
    /// 1...4096; 1 when absent; frozen after the first deploy.
    public var partitionCount: UInt32?
    /// Replicas per partition, 1...50; computed when absent (spec §5.2), honoured when given.
    public var replicaCount: UInt32?
    /// `mst`, `raft`, `none`, `basic` or `single`; STRONG → `raft`, else `mst` when absent.
    public var shardType: String?
    /// ODGM node ids per env (deterministic, spec §5.3).
    public var envNodeIds: [String: [UInt64]]
    /// Per-deployment collection options; they win over the class's.
    public var options: [String: String]
    /// ODGM_LOG; `info` when absent.
    public var log: String?
    /// Accepted and ignored (there is no Zenoh).
    public var zenohMode: String?
    /// PVC size when persistent (`OPRC_CRM_ODGM_PVC_SIZE` when absent).
    public var storageSize: String?
    public var storageClass: String?

    public static let shardTypes: [String] = ["mst", "raft", "none", "basic", "single"]
    /// Shard types with exactly one replica.
    public static let singleReplicaShardTypes: Set<String> = ["none", "basic", "single"]
    public static let partitionCountRange: ClosedRange<UInt32> = 1...4096
    public static let replicaCountRange: ClosedRange<UInt32> = 1...50

    public init(
        collections: [String] = [],
        partitionCount: UInt32? = nil,
        replicaCount: UInt32? = nil,
        shardType: String? = nil,
        envNodeIds: [String: [UInt64]] = [:],
        options: [String: String] = [:],
        log: String? = nil,
        zenohMode: String? = nil,
        storageSize: String? = nil,
        storageClass: String? = nil
    ) {
        self.collections = collections
        self.partitionCount = partitionCount
        self.replicaCount = replicaCount
        self.shardType = shardType
        self.envNodeIds = envNodeIds
        self.options = options
        self.log = log
        self.zenohMode = zenohMode
        self.storageSize = storageSize
        self.storageClass = storageClass
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

extension OdgmDataSpec: ObjectReadable {
    init(reading object: ObjectReader) {
        let nodeIds = object["env_node_ids"]?.map { entry in
            entry.list()?.compactMap { $0.unsigned(UInt64.self) }
        }
        self.init(
            collections: object.stringList("collections") ?? [],
            partitionCount: object.uint32("partition_count"),
            replicaCount: object.uint32("replica_count"),
            shardType: object.string("shard_type"),
            envNodeIds: nodeIds ?? [:],
            options: object.stringMap("options") ?? [:],
            log: object.string("log"),
            zenohMode: object.string("zenoh_mode"),
            storageSize: object.string("storage_size"),
            storageClass: object.string("storage_class")
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("collections", collections)
        writer.add("partition_count", partitionCount)
        writer.add("replica_count", replicaCount)
        writer.add("shard_type", shardType)
        writer.add("env_node_ids", .object(envNodeIds.keys.sorted().map { env in
            DocumentMember(env, .array((envNodeIds[env] ?? []).map { DocumentValue($0) }))
        }))
        writer.add("options", options)
        writer.add("log", log)
        writer.add("zenoh_mode", zenohMode)
        writer.add("storage_size", storageSize)
        writer.add("storage_class", storageClass)
        return writer.value
    }
}
