/// The deterministic ids of spec §5.3: the same deployment key and env always give the same names and node ids,
/// so a redeploy updates resources in place instead of leaking new ones.
public enum DeterministicIds {
    /// Lowercase hex SHA-256 of the UTF-8 bytes of `text` (64 characters).
    public static func sha256Hex(_ text: String) -> String { SHA256.hexDigest(text) }

    /// `hex8(s)`: the first 8 lowercase hex characters of SHA-256 of `s` (spec §0).
    public static func hex8(_ text: String) -> String { String(sha256Hex(text).prefix(8)) }

    /// A DNS-1035 label fragment: lowercase; characters outside `[a-z0-9-]` become `-`; runs of `-` collapse;
    /// `-` trimmed from both ends; `a` prefixed if it does not start with a letter; `default` if empty.
    public static func dns1035(_ text: String) -> String {
        var result = ""
        for scalar in text.lowercased().unicodeScalars {
            let isAllowed = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
            let character: Character = isAllowed ? Character(scalar) : "-"
            if character == "-", result.last == "-" { continue }
            result.append(character)
        }
        result = trimDashes(result)
        if result.isEmpty { return "default" }
        if let first = result.unicodeScalars.first, !("a"..."z").contains(first) { result = "a" + result }
        return result
    }

    /// The unit id of a deployment in one env: `trim(dns1035(key)[0:31]) + "-" + hex8(key + "/" + env)`
    /// (at most 40 characters, stable across redeploys).
    public static func unitId(deploymentKey: String, env: String) -> String {
        trimDashes(String(dns1035(deploymentKey).prefix(31))) + "-" + hex8(deploymentKey + "/" + env)
    }

    /// Largest id that survives a JSON double: node ids are masked to 53 bits.
    public static let nodeIdMask: UInt64 = (1 << 53) - 1

    /// The ODGM node id for the `ordinal`-th node (0-based) of a deployment in an env: the first 8 bytes of
    /// SHA-256(`{key}/{env}/{ordinal}`) big-endian, masked to 53 bits. A 0 or an id already in `taken` is
    /// rehashed with the suffix `/1`, `/2`, ...
    public static func odgmNodeId(deploymentKey: String, env: String, ordinal: Int, taken: Set<UInt64> = []) -> UInt64 {
        let base = "\(deploymentKey)/\(env)/\(ordinal)"
        var attempt = 0
        while true {
            let input = attempt == 0 ? base : "\(base)/\(attempt)"
            let digest = SHA256.hash(Array(input.utf8))
            let id = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & nodeIdMask
            if id != 0, !taken.contains(id) { return id }
            attempt += 1
        }
    }

    /// Node ids per env for the nodes of a placement (`nodeEnvs[i]` = env of node i, spec §5.2 round-robin).
    /// Ids of `existing` are kept in order for the envs that keep nodes (stable across redeploys); new nodes get
    /// the id of their ordinal within their env.
    public static func envNodeIds(
        deploymentKey: String,
        nodeEnvs: [String],
        existing: [String: [UInt64]] = [:]
    ) -> [String: [UInt64]] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for env in nodeEnvs {
            if counts[env] == nil { order.append(env) }
            counts[env, default: 0] += 1
        }
        var result: [String: [UInt64]] = [:]
        var taken = Set<UInt64>()
        // Kept ids first, so a new id never collides with one that stays.
        for env in order {
            let kept = Array((existing[env] ?? []).filter { $0 != 0 }.prefix(counts[env] ?? 0))
            var ids: [UInt64] = []
            for id in kept where taken.insert(id).inserted { ids.append(id) }
            result[env] = ids
        }
        for env in order {
            var ids = result[env] ?? []
            var ordinal = ids.count
            while ids.count < counts[env] ?? 0 {
                let id = odgmNodeId(deploymentKey: deploymentKey, env: env, ordinal: ordinal, taken: taken)
                taken.insert(id)
                ids.append(id)
                ordinal += 1
            }
            result[env] = ids
        }
        return result
    }

    /// Shard assignments of one collection (spec §5.3): members = sorted unique node ids; each partition's
    /// primary member is the one with the fewest primaries so far (ties: lowest index); its owners are
    /// `members[(primary + i) % n]` for i < replicas; shard ids run from 1 within the collection and a
    /// partition's `primary` is its first shard id.
    public static func shardAssignments(nodeIds: [UInt64], partitionCount: UInt32, replicaCount: UInt32) -> [ShardAssignment] {
        let members = Array(Set(nodeIds)).sorted()
        guard !members.isEmpty, partitionCount > 0, replicaCount > 0 else { return [] }
        var primaries = [Int](repeating: 0, count: members.count)
        var nextShardId: UInt64 = 1
        var assignments: [ShardAssignment] = []
        assignments.reserveCapacity(Int(partitionCount))
        for _ in 0..<partitionCount {
            var primary = 0
            for index in members.indices where primaries[index] < primaries[primary] { primary = index }
            primaries[primary] += 1
            let owners = (0..<Int(replicaCount)).map { members[(primary + $0) % members.count] }
            let shardIds = (0..<UInt64(replicaCount)).map { nextShardId + $0 }
            nextShardId += UInt64(replicaCount)
            assignments.append(ShardAssignment(primary: shardIds.first, replica: owners, shardIds: shardIds))
        }
        return assignments
    }

    private static func trimDashes(_ text: String) -> String {
        guard let start = text.firstIndex(where: { $0 != "-" }), let end = text.lastIndex(where: { $0 != "-" }) else {
            return ""
        }
        return String(text[start...end])
    }
}

/// The shards of one partition (spec §8.2 `ShardAssignmentSpec`).
public struct ShardAssignment: Sendable, Equatable, Codable {
    /// Shard id of the partition's primary (its first shard).
    public var primary: UInt64?
    /// Owner node id of each shard.
    public var replica: [UInt64]
    public var shardIds: [UInt64]

    public init(primary: UInt64?, replica: [UInt64], shardIds: [UInt64]) {
        self.primary = primary
        self.replica = replica
        self.shardIds = shardIds
    }

    enum CodingKeys: String, CodingKey {
        case primary, replica
        case shardIds = "shard_ids"
    }
}
