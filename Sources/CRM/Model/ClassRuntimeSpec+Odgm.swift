extension ClassRuntimeSpec {
    /// `spec.odgm_config` (DU 9): collections, partitioning, node ids and routes of the class's ODGM.
    public struct OdgmConfig: Codable, Sendable, Equatable {
        public var collections: [String]
        public var partitionCount: Int32?
        public var replicaCount: Int32?
        /// `mst`, `raft`, `none` (aliases `basic`, `single`).
        public var shardType: String?
        /// Routes as Deploy stored them; URLs are resolved at render time (§11.2).
        public var invocations: Invocations?
        public var options: [String: String]
        /// `ODGM_LOG`.
        public var log: String?
        /// ODGM node ids per env.
        public var envNodeIds: [String: [UInt64]]
        /// This env's first node id (DU `odgm_node_id`).
        public var nodeId: UInt64?
        /// Shard assignments per collection, one per partition.
        public var collectionAssignments: [String: [ShardAssignment]]
        /// Accepted and ignored (there is no Zenoh).
        public var zenohMode: String?
        public var persistence: Persistence?

        public init(collections: [String] = [], partitionCount: Int32? = nil, replicaCount: Int32? = nil,
                    shardType: String? = nil, invocations: Invocations? = nil, options: [String: String] = [:],
                    log: String? = nil, envNodeIds: [String: [UInt64]] = [:], nodeId: UInt64? = nil,
                    collectionAssignments: [String: [ShardAssignment]] = [:], zenohMode: String? = nil,
                    persistence: Persistence? = nil) {
            self.collections = collections
            self.partitionCount = partitionCount
            self.replicaCount = replicaCount
            self.shardType = shardType
            self.invocations = invocations
            self.options = options
            self.log = log
            self.envNodeIds = envNodeIds
            self.nodeId = nodeId
            self.collectionAssignments = collectionAssignments
            self.zenohMode = zenohMode
            self.persistence = persistence
        }

        enum CodingKeys: String, CodingKey {
            case collections, partitionCount = "partition_count", replicaCount = "replica_count"
            case shardType = "shard_type", invocations, options, log, envNodeIds = "env_node_ids", nodeId = "node_id"
            case collectionAssignments = "collection_assignments", zenohMode = "zenoh_mode", persistence
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            collections = try c.decodeIfPresent([String].self, forKey: .collections) ?? []
            partitionCount = try c.decodeIfPresent(Int32.self, forKey: .partitionCount)
            replicaCount = try c.decodeIfPresent(Int32.self, forKey: .replicaCount)
            shardType = try c.decodeIfPresent(String.self, forKey: .shardType)
            invocations = try c.decodeIfPresent(Invocations.self, forKey: .invocations)
            options = try c.decodeIfPresent([String: String].self, forKey: .options) ?? [:]
            log = try c.decodeIfPresent(String.self, forKey: .log)
            envNodeIds = try c.decodeIfPresent([String: [UInt64]].self, forKey: .envNodeIds) ?? [:]
            nodeId = try c.decodeIfPresent(UInt64.self, forKey: .nodeId)
            collectionAssignments =
                try c.decodeIfPresent([String: [ShardAssignment]].self, forKey: .collectionAssignments) ?? [:]
            zenohMode = try c.decodeIfPresent(String.self, forKey: .zenohMode)
            persistence = try c.decodeIfPresent(Persistence.self, forKey: .persistence)
        }
    }

    /// `odgm_config.invocations`: routes keyed by binding name, and bindings ODGM must refuse.
    public struct Invocations: Codable, Sendable, Equatable {
        public var fnRoutes: [String: Route]
        public var disabledFn: [String]

        public init(fnRoutes: [String: Route] = [:], disabledFn: [String] = []) {
            self.fnRoutes = fnRoutes
            self.disabledFn = disabledFn
        }

        enum CodingKeys: String, CodingKey { case fnRoutes = "fn_routes", disabledFn = "disabled_fn" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            fnRoutes = try c.decodeIfPresent([String: Route].self, forKey: .fnRoutes) ?? [:]
            disabledFn = try c.decodeIfPresent([String].self, forKey: .disabledFn) ?? []
        }
    }

    /// One invocation route. An empty `url` with a `function_key` means "the CRM resolves it".
    public struct Route: Codable, Sendable, Equatable {
        public var url: String
        public var stateless: Bool?
        public var standby: Bool?
        public var activeGroup: [UInt64]
        public var functionKey: String?
        public var wasmModuleUrl: String?
        public var wasmFuel: UInt64?

        public init(url: String = "", stateless: Bool? = nil, standby: Bool? = nil, activeGroup: [UInt64] = [],
                    functionKey: String? = nil, wasmModuleUrl: String? = nil, wasmFuel: UInt64? = nil) {
            self.url = url
            self.stateless = stateless
            self.standby = standby
            self.activeGroup = activeGroup
            self.functionKey = functionKey
            self.wasmModuleUrl = wasmModuleUrl
            self.wasmFuel = wasmFuel
        }

        enum CodingKeys: String, CodingKey {
            case url, stateless, standby, activeGroup = "active_group", functionKey = "function_key"
            case wasmModuleUrl = "wasm_module_url", wasmFuel = "wasm_fuel"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decodeIfPresent(String.self, forKey: .url) ?? ""
            stateless = try c.decodeIfPresent(Bool.self, forKey: .stateless)
            standby = try c.decodeIfPresent(Bool.self, forKey: .standby)
            activeGroup = try c.decodeIfPresent([UInt64].self, forKey: .activeGroup) ?? []
            functionKey = try c.decodeIfPresent(String.self, forKey: .functionKey)
            wasmModuleUrl = try c.decodeIfPresent(String.self, forKey: .wasmModuleUrl)
            wasmFuel = try c.decodeIfPresent(UInt64.self, forKey: .wasmFuel)
        }
    }

    /// Shards of one partition: `replica` = owner node ids, `primary` = shard id of the primary.
    public struct ShardAssignment: Codable, Sendable, Equatable {
        public var primary: UInt64?
        public var replica: [UInt64]
        public var shardIds: [UInt64]

        public init(primary: UInt64? = nil, replica: [UInt64] = [], shardIds: [UInt64] = []) {
            self.primary = primary
            self.replica = replica
            self.shardIds = shardIds
        }

        enum CodingKeys: String, CodingKey { case primary, replica, shardIds = "shard_ids" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            primary = try c.decodeIfPresent(UInt64.self, forKey: .primary)
            replica = try c.decodeIfPresent([UInt64].self, forKey: .replica) ?? []
            shardIds = try c.decodeIfPresent([UInt64].self, forKey: .shardIds) ?? []
        }
    }

    /// ODGM data on a PVC (`state_spec.persistent`, §11.4).
    public struct Persistence: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var size: String?
        public var storageClass: String?

        public init(enabled: Bool = false, size: String? = nil, storageClass: String? = nil) {
            self.enabled = enabled
            self.size = size
            self.storageClass = storageClass
        }

        enum CodingKeys: String, CodingKey { case enabled, size, storageClass = "storage_class" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
            size = try c.decodeIfPresent(String.self, forKey: .size)
            storageClass = try c.decodeIfPresent(String.self, forKey: .storageClass)
        }
    }
}
