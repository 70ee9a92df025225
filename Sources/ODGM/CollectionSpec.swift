import Foundation
import OaaSCore
import OaaSProto

/// A validated collection definition (data-plane spec §9.2–9.3).
public struct CollectionSpec: Sendable {
    public enum ShardType: String, Sendable {
        case none, mst, raft
    }

    public enum StorageBackend: String, Sendable {
        case lmdb, memory
    }

    public struct Options: Sendable {
        public var invokeOnlyPrimary = false
        public var storageBackend = StorageBackend.lmdb
        public var storagePath: String?
        public var eventPublish = true
        public var includeValues = false
        public var triggerPayloadFormat = "json"
        public var raftRead = "linearizable"
        public init() {}
    }

    /// One replica of one partition, placed on a node.
    public struct Placement: Sendable, Equatable {
        public var node: UInt64
        public var shardID: UInt64
        public var primary: Bool
    }

    public let name: String
    public let partitionCount: UInt32
    public let replicaCount: UInt32
    public let shardType: ShardType
    public let options: Options
    /// Replicas of each partition, indexed by partition id.
    public let placements: [[Placement]]
    /// The request as given, with defaults filled in (what the route table and dev store carry).
    public let request: Oprc_CreateCollectionRequest
    public let warnings: [String]

    /// Validates `request`; problems name the collection (or `path`) and the field.
    public init(_ request: Oprc_CreateCollectionRequest, members: [UInt64], path: String = "", defaults: Options = Options()) throws(ConfigurationError) {
        var problems: [String] = []
        var warnings: [String] = []
        let at = path.isEmpty ? "collection '\(request.name)'" : path
        if request.name.isEmpty { problems.append("\(path.isEmpty ? "collection" : path).name: must not be empty") }
        if request.name.utf8.contains(0) { problems.append("\(at).name: must not contain U+0000") }

        let partitions = request.partitionCount == 0 ? 1 : Int(request.partitionCount)
        if partitions < 1 || partitions > 65536 { problems.append("\(at).partition_count: \(request.partitionCount) is out of range 1...65536") }
        let replicas = request.replicaCount == 0 ? 1 : Int(request.replicaCount)
        if replicas < 1 || replicas > max(members.count, 1) {
            problems.append("\(at).replica_count: \(request.replicaCount) exceeds the \(members.count) member node(s)")
        }

        var shardType = ShardType.none
        switch request.shardType.lowercased() {
        case "", "none", "basic", "single": shardType = .none
        case "mst": shardType = .mst
        case "raft": shardType = .raft
        default: problems.append("\(at).shard_type: '\(request.shardType)' is not one of none, mst, raft")
        }
        if shardType != .none {
            problems.append("\(at).shard_type: '\(shardType.rawValue)' replication is not implemented in this build yet (use none)")
        }
        if shardType == .none && replicas != 1 {
            problems.append("\(at).replica_count: must be 1 for shard_type none")
        }

        var options = defaults
        for (key, value) in request.options.sorted(by: { $0.key < $1.key }) {
            func bool() -> Bool? {
                switch value.lowercased() {
                case "true", "1": true
                case "false", "0": false
                default: nil
                }
            }
            switch key {
            case "invoke_only_primary":
                if let b = bool() { options.invokeOnlyPrimary = b } else { problems.append("\(at).options.\(key): '\(value)' is not a boolean") }
            case "storage_backend":
                switch value.lowercased() {
                case "lmdb", "fjall": options.storageBackend = .lmdb
                case "memory", "skiplist": options.storageBackend = .memory
                default: problems.append("\(at).options.\(key): '\(value)' is not one of lmdb, memory")
                }
            case "storage_path":
                options.storagePath = value.isEmpty ? nil : value
            case "event_publish", "zenoh_event_publish":
                if let b = bool() { options.eventPublish = b } else { problems.append("\(at).options.\(key): '\(value)' is not a boolean") }
            case "ws_event_include_values":
                if let b = bool() { options.includeValues = b } else { problems.append("\(at).options.\(key): '\(value)' is not a boolean") }
            case "trigger_payload_format":
                if value == "json" || value == "protobuf" { options.triggerPayloadFormat = value } else { problems.append("\(at).options.\(key): '\(value)' is not one of json, protobuf") }
            case "raft_read":
                if value == "linearizable" || value == "local" { options.raftRead = value } else { problems.append("\(at).options.\(key): '\(value)' is not one of linearizable, local") }
            case "mst_sync_interval", "offload_max_pool_size", "pool_max_idle_lifetime", "pool_max_lifetime":
                if UInt64(value) == nil { problems.append("\(at).options.\(key): '\(value)' is not a non-negative integer") }
            case "mst_sync_events":
                if bool() == nil { problems.append("\(at).options.\(key): '\(value)' is not a boolean") }
            default:
                warnings.append("\(at).options.\(key): unknown option ignored")
            }
        }

        if request.hasInvocations {
            let disabled = Set(request.invocations.disabledFn)
            for (fn, route) in request.invocations.fnRoutes.sorted(by: { $0.key < $1.key }) {
                let url = route.url.lowercased()
                let valid = url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("wasm://") || (url.isEmpty && disabled.contains(fn))
                if !valid { problems.append("\(at).invocations.fn_routes.\(fn).url: '\(route.url)' must start with http://, https:// or wasm://") }
            }
        }

        // Placement: explicit assignments, or the default formula (spec §9.2).
        var placements: [[Placement]] = []
        let safePartitions = min(max(partitions, 1), 65536)
        if !request.shardAssignments.isEmpty {
            if request.shardAssignments.count != safePartitions {
                problems.append("\(at).shard_assignments: has \(request.shardAssignments.count) items, expected partition_count \(safePartitions)")
            }
            var seen = Set<UInt64>()
            for (index, assignment) in request.shardAssignments.enumerated() {
                let item = "\(at).shard_assignments[\(index)]"
                if assignment.replica.count != replicas { problems.append("\(item).replica: has \(assignment.replica.count) nodes, expected replica_count \(replicas)") }
                for node in assignment.replica where !members.contains(node) { problems.append("\(item).replica: node \(node) is not a member") }
                if !assignment.shardIds.isEmpty && assignment.shardIds.count != assignment.replica.count {
                    problems.append("\(item).shard_ids: has \(assignment.shardIds.count) ids, expected \(assignment.replica.count)")
                }
                var row: [Placement] = []
                for (r, node) in assignment.replica.enumerated() {
                    let id = r < assignment.shardIds.count ? assignment.shardIds[r] : UInt64(index * replicas + r + 1)
                    if !seen.insert(id).inserted { problems.append("\(item).shard_ids: id \(id) is not unique in the collection") }
                    row.append(Placement(node: node, shardID: id, primary: false))
                }
                let primary = assignment.hasPrimary ? assignment.primary : row.first?.shardID
                if assignment.hasPrimary, !row.contains(where: { $0.shardID == assignment.primary }) {
                    problems.append("\(item).primary: \(assignment.primary) is not one of its shard ids")
                }
                for i in row.indices where row[i].shardID == primary { row[i].primary = true }
                placements.append(row)
            }
        } else if !members.isEmpty {
            for i in 0..<safePartitions {
                placements.append((0..<replicas).map { r in
                    Placement(node: members[(i + r) % members.count], shardID: UInt64(i * replicas + r + 1), primary: r == 0)
                })
            }
        }

        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        var normalized = request
        normalized.partitionCount = Int32(partitions)
        normalized.replicaCount = Int32(replicas)
        normalized.shardType = shardType.rawValue
        self.name = request.name
        self.partitionCount = UInt32(partitions)
        self.replicaCount = UInt32(replicas)
        self.shardType = shardType
        self.options = options
        self.placements = placements
        self.request = normalized
        self.warnings = warnings
    }

    /// Parses a JSON array of CreateCollectionRequest (ODGM_COLLECTION, ODGM_COLLECTION_FILE).
    public static func parseList(_ json: String, source: String) throws(ConfigurationError) -> [Oprc_CreateCollectionRequest] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        } catch {
            throw ConfigurationError("\(source): not valid JSON: \(error.localizedDescription)")
        }
        guard let array = parsed as? [Any] else {
            throw ConfigurationError("\(source): must be a JSON array of collection objects")
        }
        var requests: [Oprc_CreateCollectionRequest] = []
        var problems: [String] = []
        for (index, item) in array.enumerated() {
            do {
                requests.append(try ProtoJSON.decode(Oprc_CreateCollectionRequest.self, fromJSONObject: item))
            } catch {
                problems.append("\(source)[\(index)]: \(error.message)")
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return requests
    }
}
