import Foundation
import Hummingbird
import OaaSModels

extension PMRoutes {
    func createPackage(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = Query(request)
        let decoded = try await body.package(request, strict: try query.bool("strict", default: false))
        let result = try await packages.create(decoded.value, warnings: decoded.warnings, logger: context.logger)
        let headers = Self.etagHeaders(result.revision, location: "/api/v1/packages/\(result.name)")
        return Reply.document(Views.packageResponse(result), status: .created, headers: headers, request: request)
    }

    func listPackages(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = Query(request)
        let paging = try Paging(query)
        let pattern = query.string("name_pattern")?.lowercased()
        let tags = Set((query.all("tag") + query.all("tags").flatMap { $0.split(separator: ",").map(String.init) })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let all = try await storage { try await self.store.packages() }.map(\.value)
        let matching = all.filter { package in
            (pattern.map { package.name.lowercased().contains($0) } ?? true)
                && (tags.isEmpty || !tags.isDisjoint(with: package.metadata.tags))
        }
        return list(matching.map(\.documentValue), paging: paging, request: request)
    }

    func getPackage(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try parameter(context, "name")
        guard let stored = try await storage({ try await self.store.package(name) }) else {
            throw PMError.notFound("package '\(name)' not found")
        }
        return Reply.document(stored.value.documentValue, headers: Self.etagHeaders(stored.revision), request: request)
    }

    func updatePackage(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try parameter(context, "name")
        let query = Query(request)
        let decoded = try await body.package(request, strict: try query.bool("strict", default: false))
        guard decoded.value.name == name else {
            throw PMError.validation("name", "'\(decoded.value.name)' does not match the package '\(name)' of the path")
        }
        let result = try await packages.update(
            decoded.value, warnings: decoded.warnings, preconditions: preconditions(request),
            redeploy: try query.bool("redeploy", default: true), correlationId: context.correlationId, logger: context.logger
        )
        return Reply.document(Views.packageResponse(result), headers: Self.etagHeaders(result.revision), request: request)
    }

    func deletePackage(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try parameter(context, "name")
        let cascade = try Query(request).bool("cascade", default: config.deleteCascade)
        try await packages.delete(name, cascade: cascade, preconditions: preconditions(request), correlationId: context.correlationId, logger: context.logger)
        return Response(status: .noContent)
    }

    // MARK: Classes and functions

    func listClasses(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = Query(request)
        let paging = try Paging(query)
        let filter = query.string("filter")?.lowercased()
        let views = try await selectedPackages(query).flatMap { package in
            package.classes
                .filter { cls in filter.map { "\(package.name).\(cls.key)".lowercased().contains($0) } ?? true }
                .sorted { $0.key < $1.key }
                .map { Views.classView($0, package: package.name) }
        }
        return list(views, paging: paging, request: request)
    }

    func getClass(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try parameter(context, "cls")
        let (packageName, classKey) = try Self.qualified(id, what: "class id", field: "cls")
        guard let package = try await storage({ try await self.store.package(packageName) })?.value,
              let cls = package.class(classKey)
        else { throw PMError.notFound("class '\(id)' not found") }
        return Reply.document(Views.classView(cls, package: packageName), request: request)
    }

    func listFunctions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = Query(request)
        let paging = try Paging(query)
        let filter = query.string("filter")?.lowercased()
        let views = try await selectedPackages(query).flatMap { package in
            package.functions
                .filter { function in filter.map { "\(package.name).\(function.key)".lowercased().contains($0) } ?? true }
                .sorted { $0.key < $1.key }
                .map { Views.functionView($0, package: package) }
        }
        return list(views, paging: paging, request: request)
    }

    func getFunction(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try parameter(context, "function")
        let (packageName, functionKey) = try Self.qualified(id, what: "function id", field: "function")
        guard let package = try await storage({ try await self.store.package(packageName) })?.value,
              let function = package.function(functionKey)
        else { throw PMError.notFound("function '\(id)' not found") }
        return Reply.document(Views.functionView(function, package: package), request: request)
    }

    /// Packages named by `package`, or all, in name order.
    private func selectedPackages(_ query: Query) async throws(PMError) -> [OPackage] {
        if let name = query.string("package") {
            return try await storage { try await self.store.package(name) }.map { [$0.value] } ?? []
        }
        return try await storage { try await self.store.packages() }.map(\.value)
    }

    /// `{package}.{rest}` split at the first `.` (spec §0).
    static func qualified(_ id: String, what: String, field: String) throws(PMError) -> (String, String) {
        guard let dot = id.firstIndex(of: "."), dot != id.startIndex, id.index(after: dot) != id.endIndex else {
            throw PMError(.badRequest, "\(field): '\(id)' is not a valid \(what) ({package}.{key})", field: field)
        }
        return (String(id[..<dot]), String(id[id.index(after: dot)...]))
    }
}
