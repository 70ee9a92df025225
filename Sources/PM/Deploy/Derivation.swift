import Foundation
import OaaSModels

/// The pure part of spec §5.1–§5.3: from the user's deployment, its package and class, the env health and the
/// stored record, the effective record (functions, ODGM section, placement, node ids).
struct Derivation: Sendable {
    var spec: OClassDeployment
    var package: OPackage
    var cls: OClass
    /// The stored record, for stability (selection, node ids, partition count).
    var previous: OClassDeployment?
    /// Every configured env, in name order.
    var configuredEnvs: [String]
    /// Known health per env (missing = no data).
    var health: [String: ClusterHealth]
    var assumedAvailability: Double

    /// Envs whose health must be known before ``derive()``: the explicit targets, else the allow-list, else all.
    static func candidatePool(_ spec: OClassDeployment, configuredEnvs: [String]) -> [String] {
        if !spec.targetEnvs.isEmpty { return spec.targetEnvs }
        if !spec.availableEnvs.isEmpty { return spec.availableEnvs }
        return configuredEnvs
    }

    /// The effective record (status carries selection, replication factor and quorum; `status.envs`, revision
    /// and timestamps are the caller's) and the placement it used.
    func derive() throws(PMError) -> (record: OClassDeployment, plan: PlacementPlan) {
        var odgm = spec.odgm ?? OdgmDataSpec()
        let previousPartitions = previous?.odgm?.partitionCount
        if let explicit = odgm.partitionCount, let previousPartitions, explicit != previousPartitions {
            throw PMError(
                .conflict,
                "odgm.partition_count: cannot change from \(previousPartitions) to \(explicit) after the first deploy (partition expansion is not supported yet)",
                field: "odgm.partition_count",
                details: [.init(field: "odgm.partition_count", message: "frozen at \(previousPartitions)")]
            )
        }

        let plan = try placement(odgm: odgm)
        if odgm.collections.isEmpty { odgm.collections = [spec.qualifiedClassId] }
        if odgm.log == nil { odgm.log = "info" }
        odgm.options = cls.options.merging(odgm.options) { _, deployment in deployment }
        odgm.partitionCount = odgm.partitionCount ?? previousPartitions ?? 1
        odgm.replicaCount = plan.replicaCount
        odgm.shardType = plan.shardType
        // Kept envs keep their node ids; explicit ids win over stored ones.
        let existing = (previous?.odgm?.envNodeIds ?? [:]).merging(spec.odgm?.envNodeIds ?? [:]) { _, explicit in explicit }
        odgm.envNodeIds = DeterministicIds.envNodeIds(deploymentKey: spec.key, nodeEnvs: plan.nodeEnvs, existing: existing)

        var record = spec
        record.targetEnvs = plan.selectedEnvs
        record.functions = effectiveFunctions()
        record.odgm = odgm
        var status = previous?.status ?? DeploymentStatusSummary()
        status.replicationFactor = plan.replicaCount
        status.selectedEnvs = plan.selectedEnvs
        status.achievedQuorumAvailability = plan.achievedQuorumAvailability
        record.status = status
        return (record, plan)
    }

    /// Spec §5.1 step 2: the listed overrides, or every distinct bound function, each over its package function.
    /// BUILTIN, MACRO and LOGICAL functions are never provisioned (§3), so they are not part of a unit; the CRM
    /// puts bindings to them in `disabled_fn`.
    func effectiveFunctions() -> [FunctionDeploymentSpec] {
        if spec.functions.isEmpty {
            return cls.boundFunctionKeys.compactMap { key in
                provisioned(key).map { FunctionDeploymentSpec.effective(for: $0, override: nil) }
            }
        }
        return spec.functions.compactMap { override in
            provisioned(override.functionKey).map { FunctionDeploymentSpec.effective(for: $0, override: override) }
        }
    }

    private func provisioned(_ key: String) -> OFunction? {
        package.function(key).flatMap { $0.functionType.isProvisioned ? $0 : nil }
    }

    /// Spec §5.2: candidates (explicit targets even when unhealthy; else healthy envs of the allow-list or all),
    /// then selection, replicas and shard type.
    private func placement(odgm: OdgmDataSpec) throws(PMError) -> PlacementPlan {
        let pool = Self.candidatePool(spec, configuredEnvs: configuredEnvs)
        let explicit = !spec.targetEnvs.isEmpty
        let candidates = pool.compactMap { env -> EnvAvailability? in
            let known = health[env]
            if !explicit, !(known?.status.isPlaceable ?? false) { return nil }
            let availability = known?.placementAvailability(assumed: assumedAvailability) ?? assumedAvailability
            return EnvAvailability(env: env, availability: availability)
        }
        guard !candidates.isEmpty else {
            let scope = spec.availableEnvs.isEmpty ? "configured envs" : "available_envs"
            let states = pool.map { "\($0): \(health[$0]?.status.rawValue ?? "Unknown")" }.joined(separator: ", ")
            throw PMError(.noEnvAvailable, pool.isEmpty
                ? "no env is configured to place deployment '\(spec.key)' on"
                : "no healthy env among the \(scope) (\(states))")
        }
        return Placement.plan(
            explicitTargets: spec.targetEnvs,
            candidates: candidates,
            availabilityTarget: spec.nfrRequirements.availability,
            previous: previous?.status?.selectedEnvs ?? [],
            explicitReplicaCount: odgm.replicaCount,
            explicitShardType: odgm.shardType,
            consistency: cls.consistency,
            assumedAvailability: assumedAvailability
        )
    }
}
