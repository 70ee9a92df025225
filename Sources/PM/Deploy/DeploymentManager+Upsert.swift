import Foundation
import GRPCCore
import Logging
import OaaSModels
import OaaSProto

/// How a deployment write was asked for.
struct UpsertOptions: Sendable {
    var preconditions: Preconditions = .none
    /// PUT: the deployment must exist.
    var requireExisting = false
    /// A user write bumps the spec revision and stores the user's spec; a package-triggered re-derivation does not.
    var userWrite = true
}

/// The outcome of a deployment write (spec §4.3 DeploymentResponse).
struct UpsertResult: Sendable {
    enum Status: String, Sendable {
        case created, updated, unchanged, accepted
    }

    var key: String
    var status: Status
    var message: String
    /// One per selected env, in selection order.
    var units: [UnitOutcome]
    var warnings: [String]
    var record: OClassDeployment

    var httpStatus: Int {
        switch status {
        case .created: 201
        case .accepted: 202
        case .updated, .unchanged: 200
        }
    }
}

extension DeploymentManager {
    /// Spec §5.1–§5.6: validate, derive, store, dispatch concurrently, record the outcome. Failed units answer 502
    /// (409 when the CRM reports a conflict) with the record kept, unless the rollback of a new deployment applies.
    func upsert(
        _ input: OClassDeployment,
        warnings: [String] = [],
        options: UpsertOptions = UpsertOptions(),
        call: CRMCall,
        logger: Logger
    ) async throws(PMError) -> UpsertResult {
        var logger = logger
        logger[metadataKey: "deployment"] = "\(input.key)"
        return try await locks.withLock(input.key) { () async throws(PMError) -> UpsertResult in
            try await upsertLocked(input, warnings: warnings, options: options, call: call, logger: logger)
        }
    }

    private func upsertLocked(
        _ input: OClassDeployment,
        warnings inputWarnings: [String],
        options: UpsertOptions,
        call: CRMCall,
        logger: Logger
    ) async throws(PMError) -> UpsertResult {
        var spec = input
        var warnings = inputWarnings
        if let fallback = config.unknownEnvFallback { mapUnknownEnvs(&spec, to: fallback, warnings: &warnings) }
        let packageName = spec.packageName
        let package = try await storage { try await self.store.package(packageName) }
        let report = ModelValidator.validate(deployment: spec, package: package?.value, knownEnvs: envs.nameSet)
        if let error = report.error { throw PMError(error) }
        warnings += report.warnings
        guard let package, let cls = package.value.class(spec.classKey) else {
            throw PMError(.internal, "package or class vanished after validation")
        }

        let key = spec.key
        let existing = try await storage { try await self.store.deployment(key) }
        if options.preconditions.ifNoneMatchAny, existing != nil {
            throw PMError(.alreadyExists, "deployment '\(key)' already exists (If-None-Match: *)", field: "key")
        }
        if options.requireExisting, existing == nil { throw PMError.notFound("deployment '\(key)' not found") }
        if let existing {
            try options.preconditions.check(current: existing.value.revision ?? 0, resource: "deployment '\(key)'")
        } else if let tags = options.preconditions.ifMatch, !tags.contains("*") {
            throw PMError(.preconditionFailed, "deployment '\(key)' does not exist (If-Match)")
        }
        let previous = existing?.value

        let pool = Derivation.candidatePool(spec, configuredEnvs: envs.names)
        let healthMap = await healthOf(pool, correlationId: call.correlationId)
        let derivation = Derivation(
            spec: spec, package: package.value, cls: cls, previous: previous,
            configuredEnvs: envs.names, health: healthMap, assumedAvailability: config.assumedEnvAvailability
        )
        var (record, plan) = try derivation.derive()
        let selected = plan.selectedEnvs

        let now = Date()
        let stamp = Timestamps.format(now)
        record.createdAt = previous?.createdAt ?? stamp
        record.updatedAt = stamp
        let previousRevision = previous?.revision ?? 0
        record.revision = options.userWrite || previous == nil
            ? max(previousRevision + 1, Timestamps.unixMilliseconds(now))
            : previousRevision
        var status = record.status ?? DeploymentStatusSummary()
        var states = previous?.status?.envs ?? [:]
        for env in selected {
            var state = states[env] ?? EnvDeploymentState(unitId: DeterministicIds.unitId(deploymentKey: key, env: env))
            state.unitId = DeterministicIds.unitId(deploymentKey: key, env: env)
            state.dispatch = .pending
            states[env] = state
        }
        let dropped = states.keys.filter { !selected.contains($0) }.sorted()
        for env in dropped { states[env]?.dispatch = .deleting }
        status.envs = states
        status.lastError = nil
        record.status = status
        record.condition = Self.aggregateCondition(record)

        // What the CRMs were last given, to tell `unchanged` from `updated`.
        var previousUnits: [String: Oaas_Deployment_DeploymentUnit] = [:]
        if let previous {
            for (env, state) in previous.status?.envs ?? [:] where state.dispatch == .accepted {
                previousUnits[env] = UnitBuilder.unit(previous, cls: cls, env: env)
            }
        }

        // Stored before dispatch (spec §5.6): a crash mid-dispatch leaves pending units for the reconciler.
        let writeGuard: WriteGuard = existing.map { .revision($0.revision) } ?? .create
        do {
            try await store.putDeployment(
                DeploymentWrite(record: record), guard: writeGuard,
                userSpec: options.userWrite ? spec : nil, packageRevision: package.revision
            )
        } catch KVStoreError.conflict(let conflicting) {
            if conflicting == StoreKeys.package(packageName) {
                throw PMError(.conflict, "package '\(packageName)' changed while deployment '\(key)' was written; retry the request", field: "package_name")
            }
            throw existing == nil
                ? PMError(.alreadyExists, "deployment '\(key)' was created concurrently", field: "key")
                : PMError(.conflict, "deployment '\(key)' was changed concurrently; retry the request")
        } catch {
            throw PMError.storage(error)
        }

        let units = selected.compactMap { env in envs[env].map { (env: $0, unit: UnitBuilder.unit(record, cls: cls, env: env)) } }
        let unchangedEnvs = Set(units.compactMap { item -> String? in
            guard let old = previousUnits[item.env.name], UnitBuilder.sameDesiredState(old, item.unit) else { return nil }
            return item.env.name
        })
        let deletions = dropped.map { (env: $0, unitId: Self.unitId(previous ?? record, env: $0)) }
        async let deployed = dispatcher.deploy(units, policy: dispatcher.deployRetries, call: call, logger: logger)
        async let deleted = deleteUnits(deletions, call: call, logger: logger)
        let (outcomes, deleteErrors) = await (deployed, deleted)
        let ordered = selected.compactMap { outcomes[$0] }

        if config.rollbackOnPartial, existing == nil, ordered.contains(where: { $0.dispatch != .accepted }) {
            try await rollback(record, outcomes: ordered, call: call, logger: logger)
        }

        let revision = record.revision
        let finalRecord = try await storage {
            try await self.store.updateDeployment(key) { write in
                // A newer user write (another PM replica) owns the record now.
                guard write.record.revision == revision else { return false }
                Self.record(outcomes: ordered, unchanged: unchangedEnvs, deleted: dropped, deleteErrors: deleteErrors, into: &write)
                return true
            }
        }?.value ?? record

        let failed = ordered.filter { $0.dispatch == .failed }
        let pending = ordered.filter { $0.dispatch == .pending }
        if !failed.isEmpty {
            let conflict = failed.contains { $0.error?.code == .alreadyExists || $0.error?.code == .failedPrecondition }
            let summary = failed.map { "\($0.env): \($0.error.map(CRMFailure.describe) ?? "failed")" }.joined(separator: "; ")
            throw PMError(
                conflict ? .conflict : .crmError,
                "deployment '\(key)' was stored but its CRM refused it (\(summary))",
                details: (failed + pending).map { PMError.Detail(field: $0.env, message: "unit '\($0.unitId)' \($0.resultName): \($0.error.map(CRMFailure.describe) ?? "")") }
            )
        }
        let outcome: UpsertResult.Status
        let message: String
        if !pending.isEmpty {
            outcome = .accepted
            message = "Deployment '\(key)' stored; \(pending.map(\.env).joined(separator: ", ")) not reachable yet, PM keeps retrying"
        } else if existing == nil {
            outcome = .created
            message = "Deployment '\(key)' created in \(selected.count) env(s)"
        } else if dropped.isEmpty, unchangedEnvs.count == selected.count {
            outcome = .unchanged
            message = "Deployment '\(key)' unchanged"
        } else {
            outcome = .updated
            message = "Deployment '\(key)' updated in \(selected.count) env(s)" + (dropped.isEmpty ? "" : "; removed from \(dropped.joined(separator: ", "))")
        }
        logger.info("deployment written", metadata: ["status": "\(outcome.rawValue)", "envs": "\(selected.joined(separator: ","))"])
        return UpsertResult(key: key, status: outcome, message: message, units: ordered, warnings: warnings, record: finalRecord)
    }

    /// `DEPLOY_ROLLBACK_ON_PARTIAL`: a new deployment that did not land everywhere is taken back and answers 502.
    /// Units whose delete fails stay in the record as `deleting` for the reconciler, so nothing is orphaned.
    private func rollback(_ record: OClassDeployment, outcomes: [UnitOutcome], call: CRMCall, logger: Logger) async throws(PMError) -> Never {
        let accepted = outcomes.filter { $0.dispatch == .accepted }
        let errors = await deleteUnits(accepted.map { ($0.env, $0.unitId) }, call: call, logger: logger)
        let key = record.key
        if errors.isEmpty {
            try await storage { try await self.store.removeDeployment(record) }
        } else {
            _ = try await storage {
                try await self.store.updateDeployment(key) { write in
                    var status = write.record.status ?? DeploymentStatusSummary()
                    for env in status.envs.keys.sorted() {
                        if let error = errors[env] {
                            status.envs[env]?.dispatch = .deleting
                            status.envs[env]?.lastError = CRMFailure.describe(error)
                        } else {
                            status.envs[env] = nil
                        }
                    }
                    write.record.status = status
                    write.record.condition = .deleted
                    return true
                }
            }
        }
        let failures = outcomes.filter { $0.dispatch != .accepted }
        logger.warning("new deployment rolled back", metadata: ["failed_envs": "\(failures.map(\.env).joined(separator: ","))"])
        throw PMError(
            .crmError,
            "deployment '\(key)' rolled back (DEPLOY_ROLLBACK_ON_PARTIAL): " + failures.map { "\($0.env): \($0.error.map(CRMFailure.describe) ?? $0.resultName)" }.joined(separator: "; "),
            details: outcomes.map { PMError.Detail(field: $0.env, message: "unit '\($0.unitId)' \($0.resultName)\($0.error.map { ": " + CRMFailure.describe($0) } ?? "")") }
        )
    }

    /// Deletes units concurrently; the errors of those that may still exist, by env. Envs that are no longer
    /// configured cannot be asked and count as done.
    func deleteUnits(_ units: [(env: String, unitId: String)], call: CRMCall, logger: Logger) async -> [String: RPCError] {
        await withTaskGroup(of: (String, RPCError?).self) { group in
            for (name, unitId) in units {
                guard let env = envs[name] else {
                    logger.warning("env is no longer configured; unit left to its CRM", metadata: ["env": "\(name)", "unit_id": "\(unitId)"])
                    continue
                }
                group.addTask { (name, await self.dispatcher.delete(unitId: unitId, env: env, call: call, logger: logger)) }
            }
            var errors: [String: RPCError] = [:]
            for await (env, error) in group {
                if let error { errors[env] = error }
            }
            return errors
        }
    }

    /// `oaas dev`: deployment files written for Kubernetes envs run unchanged on the local env (spec §13).
    private func mapUnknownEnvs(_ spec: inout OClassDeployment, to fallback: String, warnings: inout [String]) {
        guard envs[fallback] != nil else { return }
        var mapped: [String] = []
        func map(_ env: String) -> String {
            guard !env.isEmpty, envs[env] == nil else { return env }
            if !mapped.contains(env) { mapped.append(env) }
            return fallback
        }
        func unique(_ list: [String]) -> [String] {
            var seen = Set<String>()
            return list.map(map).filter { seen.insert($0).inserted }
        }
        spec.targetEnvs = unique(spec.targetEnvs)
        spec.availableEnvs = unique(spec.availableEnvs)
        spec.envTemplates = Dictionary(spec.envTemplates.map { (map($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
        if var odgm = spec.odgm {
            odgm.envNodeIds = Dictionary(odgm.envNodeIds.map { (map($0.key), $0.value) }, uniquingKeysWith: { first, second in first + second })
            spec.odgm = odgm
        }
        warnings += mapped.map { "env '\($0)' mapped to '\(fallback)'" }
    }
}
