import Foundation
import OaaSModels

extension PMStore {
    func package(_ name: String) async throws -> Stored<OPackage>? {
        guard let item = try await kv.get(StoreKeys.package(name)) else { return nil }
        return Stored(value: try decodePackage(item.value), revision: item.revision)
    }

    /// Every package, sorted by name.
    func packages() async throws -> [Stored<OPackage>] {
        try await items(StoreKeys.packages).compactMap { item in
            guard !StoreKeys.name(item.key, under: StoreKeys.packages).contains("/") else { return nil }
            return decodeLogged(item) { Stored(value: try decodePackage($0), revision: item.revision) }
        }
    }

    /// Creates or replaces a package (never with `deployments`), keeping `index/dependents` in step.
    /// - Parameters:
    ///   - previousDependencies: the dependencies of the replaced version (their index entries go).
    ///   - dependencyRevisions: each dependency's revision as validated; the write fails if one changed since.
    @discardableResult
    func putPackage(
        _ package: OPackage,
        guard writeGuard: WriteGuard,
        previousDependencies: [String] = [],
        dependencyRevisions: [String: UInt64] = [:]
    ) async throws -> UInt64 {
        var stored = package
        stored.deployments = []
        var operations: [KVOperation] = [.put(StoreKeys.package(package.name), data(stored))]
        for old in Set(previousDependencies).subtracting(package.dependencies) {
            operations.append(.delete(StoreKeys.dependent(old, package.name)))
        }
        for dependency in Set(package.dependencies) {
            operations.append(.put(StoreKeys.dependent(dependency, package.name), Data()))
        }
        var conditions = [writeGuard.condition(StoreKeys.package(package.name))].compactMap { $0 }
        conditions += dependencyRevisions.keys.sorted().compactMap { name in
            dependencyRevisions[name].map { .revision(StoreKeys.package(name), $0) }
        }
        return try await commit(operations, if: conditions)
    }

    func deletePackage(_ package: OPackage, revision: UInt64) async throws {
        var operations: [KVOperation] = [.delete(StoreKeys.package(package.name))]
        for dependency in Set(package.dependencies) {
            operations.append(.delete(StoreKeys.dependent(dependency, package.name)))
        }
        try await commit(operations, if: [.revision(StoreKeys.package(package.name), revision)])
    }

    /// Packages that name `package` in their dependencies.
    func dependents(of package: String) async throws -> [String] {
        try await names(under: StoreKeys.dependents(package))
    }

    /// Keys of the deployments of `package`.
    func deploymentKeys(ofPackage package: String) async throws -> [String] {
        try await names(under: StoreKeys.packageDeployments(package))
    }

    private func decodePackage(_ data: Data) throws -> OPackage {
        try decoder.decodePackage(data, format: .json).value
    }
}
