import Foundation
import Logging
import OaaSModels

/// The outcome of a package write (spec §4.3 PackageResponse).
struct PackageResult: Sendable {
    enum Status: String, Sendable {
        case created, updated, unchanged
    }

    var name: String
    var status: Status
    var message: String
    var warnings: [String]
    var redeployed: [String]
    var revision: UInt64
}

/// Package create, update (with IN_USE checks and background redeploys) and delete (with cascade), spec §5.6–§5.7.
final class PackageService: Sendable {
    let manager: DeploymentManager
    let background: BackgroundWork

    init(manager: DeploymentManager, background: BackgroundWork) {
        self.manager = manager
        self.background = background
    }

    private var store: PMStore { manager.store }

    func create(_ input: OPackage, warnings: [String], logger: Logger) async throws(PMError) -> PackageResult {
        var package = input
        let all = try await allPackages()
        let report = ModelValidator.validate(package: package) { all[$0]?.value.dependencies }
        if let error = report.error { throw PMError(error) }
        if all[package.name] != nil { throw PMError(.alreadyExists, "package '\(package.name)' already exists", field: "name") }
        let stamp = Timestamps.now()
        package.metadata.createdAt = stamp
        package.metadata.updatedAt = stamp
        let revisions = dependencyRevisions(package, all)
        let revision: UInt64
        do {
            revision = try await store.putPackage(package, guard: .create, dependencyRevisions: revisions)
        } catch KVStoreError.conflict(let key) where key == StoreKeys.package(package.name) {
            throw PMError(.alreadyExists, "package '\(package.name)' already exists", field: "name")
        } catch KVStoreError.conflict {
            throw PMError(.conflict, "a dependency of package '\(package.name)' changed during the request; retry", field: "dependencies")
        } catch {
            throw PMError.storage(error)
        }
        logger.info("package created", metadata: ["package": "\(package.name)"])
        return PackageResult(name: package.name, status: .created, message: "Package '\(package.name)' created",
                             warnings: warnings + report.warnings, redeployed: [], revision: revision)
    }

    /// Replaces a package. Removing a class, binding or function a deployment still uses is 409 IN_USE; otherwise
    /// the package's deployments are re-derived and redeployed in the background unless `redeploy` is false.
    func update(
        _ input: OPackage,
        warnings: [String],
        preconditions: Preconditions,
        redeploy: Bool,
        correlationId: String,
        logger: Logger
    ) async throws(PMError) -> PackageResult {
        var package = input
        let all = try await allPackages()
        guard let existing = all[package.name] else { throw PMError.notFound("package '\(package.name)' not found") }
        try preconditions.check(current: existing.revision, resource: "package '\(package.name)'")
        let report = ModelValidator.validate(package: package) { all[$0]?.value.dependencies }
        if let error = report.error { throw PMError(error) }
        let keys = try await manager.storage { try await self.store.deploymentKeys(ofPackage: package.name) }
        try await checkInUse(old: existing.value, new: package, deploymentKeys: keys)

        package.metadata.createdAt = existing.value.metadata.createdAt ?? Timestamps.now()
        package.metadata.updatedAt = existing.value.metadata.updatedAt
        var stored = existing.value
        stored.deployments = []
        package.deployments = []
        if package == stored {
            return PackageResult(name: package.name, status: .unchanged, message: "Package '\(package.name)' unchanged",
                                 warnings: warnings + report.warnings, redeployed: [], revision: existing.revision)
        }
        package.metadata.updatedAt = Timestamps.now()
        let revision: UInt64
        do {
            revision = try await store.putPackage(package, guard: .revision(existing.revision),
                                                  previousDependencies: existing.value.dependencies,
                                                  dependencyRevisions: dependencyRevisions(package, all))
        } catch KVStoreError.conflict {
            throw PMError(.conflict, "package '\(package.name)' or one of its dependencies changed during the request; retry")
        } catch {
            throw PMError.storage(error)
        }
        logger.info("package updated", metadata: ["package": "\(package.name)", "redeploy": "\(redeploy && !keys.isEmpty)"])
        if redeploy, !keys.isEmpty { scheduleRedeploy(keys, correlationId: correlationId, logger: logger) }
        return PackageResult(name: package.name, status: .updated, message: "Package '\(package.name)' updated",
                             warnings: warnings + report.warnings, redeployed: redeploy ? keys : [], revision: revision)
    }

    /// 409 IN_USE while other packages depend on it, or deployments exist without cascade; with cascade every
    /// deployment is deleted first (spec §5.7).
    func delete(_ name: String, cascade: Bool, preconditions: Preconditions, correlationId: String, logger: Logger) async throws(PMError) {
        guard let existing = try await manager.storage({ try await self.store.package(name) }) else {
            throw PMError.notFound("package '\(name)' not found")
        }
        try preconditions.check(current: existing.revision, resource: "package '\(name)'")
        let dependents = try await manager.storage { try await self.store.dependents(of: name) }
        if !dependents.isEmpty {
            throw PMError(.inUse, "package '\(name)' is a dependency of \(dependents.map { "'\($0)'" }.joined(separator: ", "))",
                          details: dependents.map { PMError.Detail(field: "dependents", message: $0) })
        }
        let keys = try await manager.storage { try await self.store.deploymentKeys(ofPackage: name) }
        if !keys.isEmpty, !cascade {
            throw PMError(.inUse, "package '\(name)' has deployments \(keys.map { "'\($0)'" }.joined(separator: ", ")); delete them first or use ?cascade=true",
                          details: keys.map { PMError.Detail(field: "deployments", message: $0) })
        }
        let call = CRMCall(correlationId: correlationId, timeout: .seconds(30))
        for key in keys {
            do {
                let result = try await manager.delete(key, call: call, logger: logger)
                if !result.isComplete {
                    logger.warning("cascade delete pending; the reconciler finishes it", metadata: ["deployment": "\(key)", "pending_envs": "\(result.pendingEnvs.joined(separator: ","))"])
                }
            } catch where error.code == .notFound {
                continue
            }
        }
        do {
            try await store.deletePackage(existing.value, revision: existing.revision)
        } catch KVStoreError.conflict {
            throw PMError(.conflict, "package '\(name)' changed during the delete; retry")
        } catch {
            throw PMError.storage(error)
        }
        logger.info("package deleted", metadata: ["package": "\(name)", "cascaded": "\(keys.joined(separator: ","))"])
    }

    // MARK: Helpers

    private func allPackages() async throws(PMError) -> [String: Stored<OPackage>] {
        let packages = try await manager.storage { try await self.store.packages() }
        return Dictionary(packages.map { ($0.value.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private func dependencyRevisions(_ package: OPackage, _ all: [String: Stored<OPackage>]) -> [String: UInt64] {
        var revisions: [String: UInt64] = [:]
        for name in package.dependencies { revisions[name] = all[name]?.revision }
        return revisions
    }

    /// Spec §5.6: a deployed class must stay with its bindings, and functions a deployment lists must stay bound.
    private func checkInUse(old: OPackage, new: OPackage, deploymentKeys: [String]) async throws(PMError) {
        var problems: [PMError.Detail] = []
        for key in deploymentKeys {
            guard let record = try await manager.storage({ try await self.store.deployment(key) })?.value else { continue }
            guard let newClass = new.class(record.classKey) else {
                problems.append(.init(field: key, message: "deployment '\(key)' uses class '\(record.classKey)', which the update removes"))
                continue
            }
            let kept = Set(newClass.functionBindings.map(\.name))
            for binding in old.class(record.classKey)?.functionBindings ?? [] where !kept.contains(binding.name) {
                problems.append(.init(field: key, message: "deployment '\(key)' uses binding '\(record.classKey).\(binding.name)', which the update removes"))
            }
            // Functions the user listed must stay bound; the others are re-derived from the new bindings.
            let listed = try await manager.storage { try await self.store.userSpec(key) }?.functions.map(\.functionKey) ?? []
            let bound = Set(newClass.boundFunctionKeys)
            for function in Set(listed).sorted() where new.function(function) == nil || !bound.contains(function) {
                problems.append(.init(field: key, message: "deployment '\(key)' lists function '\(function)', which the update removes from class '\(record.classKey)'"))
            }
        }
        guard let first = problems.first else { return }
        let names = Set(problems.compactMap(\.field)).sorted()
        throw PMError(.inUse, "\(first.message)\(problems.count > 1 ? " (and \(problems.count - 1) more)" : ""); deployments: \(names.joined(separator: ", "))", details: problems)
    }

    private func scheduleRedeploy(_ keys: [String], correlationId: String, logger: Logger) {
        let manager = manager
        background.submit {
            let call = CRMCall(correlationId: correlationId, timeout: .seconds(30))
            for key in keys {
                do {
                    var spec = try await manager.store.userSpec(key)
                    if spec == nil { spec = try await manager.store.deployment(key)?.value.userSpec }
                    guard let spec else { continue }
                    let result = try await manager.upsert(spec, options: UpsertOptions(userWrite: false), call: call, logger: logger)
                    logger.info("deployment redeployed after package update", metadata: ["deployment": "\(key)", "status": "\(result.status.rawValue)"])
                } catch {
                    logger.warning("redeploy after package update failed", metadata: ["deployment": "\(key)", "error": "\(error)"])
                }
            }
        }
    }
}
