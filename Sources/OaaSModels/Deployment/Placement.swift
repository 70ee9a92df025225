/// An env and the probability that a node placed there is up (spec §5.2 step 2).
public struct EnvAvailability: Sendable, Equatable {
    public var env: String
    public var availability: Double

    public init(env: String, availability: Double) {
        self.env = env
        self.availability = availability
    }
}

/// The outcome of placement for one deployment (spec §5.2).
public struct PlacementPlan: Sendable, Equatable {
    /// Envs in selection order.
    public var selectedEnvs: [String]
    public var shardType: String
    /// ODGM replicas per partition (`replication_factor`).
    public var replicaCount: UInt32
    /// Env of each ODGM node, round-robin over `selectedEnvs` (several nodes may share an env).
    public var nodeEnvs: [String]
    /// Q over the availability of each node's env.
    public var achievedQuorumAvailability: Double

    public init(selectedEnvs: [String], shardType: String, replicaCount: UInt32, nodeEnvs: [String], achievedQuorumAvailability: Double) {
        self.selectedEnvs = selectedEnvs
        self.shardType = shardType
        self.replicaCount = replicaCount
        self.nodeEnvs = nodeEnvs
        self.achievedQuorumAvailability = achievedQuorumAvailability
    }
}

/// The placement math of spec §5.2, as pure functions.
public enum Placement {
    /// `PM_ASSUMED_ENV_AVAILABILITY` default, and the target when the deployment sets none.
    public static let defaultAvailability = 0.99
    public static let maxReplicas: UInt32 = 50

    /// `p(env)`: the CRM's `availability`, else `ready_nodes / node_count` when `node_count > 0`, else `assumed`.
    public static func envAvailability(
        reported: Double?,
        readyNodes: UInt32?,
        nodeCount: UInt32?,
        assumed: Double = defaultAvailability
    ) -> Double {
        if let reported, reported.isFinite { return min(max(reported, 0), 1) }
        if let nodeCount, nodeCount > 0 { return min(Double(readyNodes ?? 0) / Double(nodeCount), 1) }
        return assumed
    }

    /// Majority-quorum availability: P[#up ≥ ⌊n/2⌋ + 1] for independent nodes that are up with the given
    /// probabilities (Poisson-binomial distribution, computed by dynamic programming). 0 for no nodes.
    public static func quorumAvailability(_ probabilities: [Double]) -> Double {
        guard !probabilities.isEmpty else { return 0 }
        // upCount[k] = P[exactly k of the nodes seen so far are up]
        var upCount = [Double](repeating: 0, count: probabilities.count + 1)
        upCount[0] = 1
        for (seen, probability) in probabilities.enumerated() {
            let p = min(max(probability, 0), 1)
            for k in stride(from: seen + 1, through: 1, by: -1) {
                upCount[k] = upCount[k] * (1 - p) + upCount[k - 1] * p
            }
            upCount[0] *= 1 - p
        }
        let quorum = probabilities.count / 2 + 1
        return upCount[quorum...].reduce(0, +)
    }

    /// Automatic env selection (spec §5.2 step 4): candidates sorted by availability (descending, ties by name),
    /// envs of the stored record (`previous`) first for stability; the shortest prefix whose quorum availability
    /// reaches `target`, else all candidates.
    public static func selectEnvs(
        candidates: [EnvAvailability],
        target: Double = defaultAvailability,
        previous: [String] = []
    ) -> [String] {
        let kept = Set(previous)
        let ordered = candidates.sorted { lhs, rhs in
            let lhsKept = kept.contains(lhs.env)
            let rhsKept = kept.contains(rhs.env)
            if lhsKept != rhsKept { return lhsKept }
            if lhs.availability != rhs.availability { return lhs.availability > rhs.availability }
            return lhs.env < rhs.env
        }
        for count in ordered.indices.map({ $0 + 1 }) {
            let prefix = ordered.prefix(count)
            if quorumAvailability(prefix.map(\.availability)) >= target { return prefix.map(\.env) }
        }
        return ordered.map(\.env)
    }

    /// Step 7: the explicit shard type, else `raft` for STRONG consistency, else `mst`.
    public static func shardType(explicit: String?, consistency: ConsistencyModel) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        return consistency == .strong ? "raft" : "mst"
    }

    /// Step 5: the explicit replica count, else one per selected env; STRONG raises it to an odd number ≥ 3;
    /// at most 50 (49 under STRONG, to stay odd); single-replica shard types (`none`, `basic`, `single`) have 1.
    public static func replicaCount(
        explicit: UInt32?,
        selectedEnvCount: Int,
        consistency: ConsistencyModel,
        shardType: String
    ) -> UInt32 {
        if OdgmDataSpec.singleReplicaShardTypes.contains(shardType) { return 1 }
        var replicas = explicit ?? UInt32(clamping: max(selectedEnvCount, 1))
        replicas = max(replicas, 1)
        if consistency == .strong {
            // Reference rule: q = ⌊r/2⌋ + 1, f = max(q − 1, 1), r = max(r, 2f + 1).
            let quorum = replicas / 2 + 1
            let faults = max(quorum - 1, 1)
            replicas = max(replicas, 2 * faults + 1)
        }
        replicas = min(replicas, maxReplicas)
        if consistency == .strong, replicas % 2 == 0 { replicas -= 1 }
        return replicas
    }

    /// The env of each of `replicas` nodes, round-robin over `selectedEnvs` in order.
    public static func nodeEnvs(replicas: UInt32, selectedEnvs: [String]) -> [String] {
        guard !selectedEnvs.isEmpty else { return [] }
        return (0..<Int(replicas)).map { selectedEnvs[$0 % selectedEnvs.count] }
    }

    /// Steps 4–7 together.
    /// - Parameters:
    ///   - explicitTargets: `target_envs`; when non-empty they are the selection, as given.
    ///   - candidates: the healthy candidates with their availability (also used to look up the availability of
    ///     explicit targets; an env missing there counts with `assumedAvailability`).
    ///   - previous: the selection of the stored record, preferred for stability.
    public static func plan(
        explicitTargets: [String],
        candidates: [EnvAvailability],
        availabilityTarget: Double?,
        previous: [String] = [],
        explicitReplicaCount: UInt32?,
        explicitShardType: String?,
        consistency: ConsistencyModel,
        assumedAvailability: Double = defaultAvailability
    ) -> PlacementPlan {
        var seen = Set<String>()
        let selected = explicitTargets.isEmpty
            ? selectEnvs(candidates: candidates, target: availabilityTarget ?? defaultAvailability, previous: previous)
            : explicitTargets.filter { seen.insert($0).inserted }
        let shard = shardType(explicit: explicitShardType, consistency: consistency)
        let replicas = replicaCount(
            explicit: explicitReplicaCount,
            selectedEnvCount: selected.count,
            consistency: consistency,
            shardType: shard
        )
        let nodes = nodeEnvs(replicas: replicas, selectedEnvs: selected)
        let availability = Dictionary(candidates.map { ($0.env, $0.availability) }, uniquingKeysWith: { first, _ in first })
        let quorum = quorumAvailability(nodes.map { availability[$0] ?? assumedAvailability })
        return PlacementPlan(
            selectedEnvs: selected,
            shardType: shard,
            replicaCount: replicas,
            nodeEnvs: nodes,
            achievedQuorumAvailability: quorum
        )
    }
}
