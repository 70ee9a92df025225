import Foundation
import Hummingbird
import OaaSModels
import OaaSProto

extension PMRoutes {
    func postDeployment(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = Query(request)
        let decoded = try await body.deployment(request, strict: try query.bool("strict", default: false))
        let options = UpsertOptions(preconditions: preconditions(request))
        let result = try await manager.upsert(decoded.value, warnings: decoded.warnings, options: options, call: crmCall(request, context), logger: context.logger)
        return deploymentReply(result, request: request)
    }

    func putDeployment(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let key = try parameter(context, "key")
        let query = Query(request)
        var decoded = try await body.deployment(request, strict: try query.bool("strict", default: false))
        if decoded.value.key.isEmpty { decoded.value.key = key }
        guard decoded.value.key == key else {
            throw PMError.validation("key", "'\(decoded.value.key)' does not match the deployment '\(key)' of the path")
        }
        let options = UpsertOptions(preconditions: preconditions(request), requireExisting: true)
        let result = try await manager.upsert(decoded.value, warnings: decoded.warnings, options: options, call: crmCall(request, context), logger: context.logger)
        return deploymentReply(result, request: request)
    }

    private func deploymentReply(_ result: UpsertResult, request: Request) -> Response {
        let location = result.status == .created ? "/api/v1/deployments/\(result.key)" : nil
        let headers = Self.etagHeaders(result.record.revision ?? 0, location: location)
        return Reply.document(Views.deploymentResponse(result), status: .init(code: result.httpStatus), headers: headers, request: request)
    }

    func listDeployments(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = Query(request)
        let paging = try Paging(query)
        let live = try query.bool("live", default: true)
        let packageName = query.string("package_name")
        let classFilter = query.string("class_key")
        let targetEnv = query.string("target_env")
        var wantedCondition: DeploymentCondition?
        if let raw = query.string("condition") {
            guard let parsed = DeploymentCondition(parsing: raw) else {
                throw PMError.badQuery("condition", "'\(raw)' is not one of PENDING, DEPLOYING, RUNNING, DOWN, DELETED")
            }
            wantedCondition = parsed
        }
        var records = try await storage { try await self.store.deployments() }.map(\.value).filter { record in
            (packageName.map { record.packageName == $0 } ?? true)
                && (classFilter.map { $0 == record.classKey || $0 == record.qualifiedClassId } ?? true)
                && (targetEnv.map { env in (record.status?.selectedEnvs ?? record.targetEnvs).contains(env) || record.targetEnvs.contains(env) } ?? true)
        }
        if live {
            let call = crmCall(request, context)
            records = await withTaskGroup(of: (Int, OClassDeployment).self) { group in
                for (index, record) in records.enumerated() {
                    group.addTask { (index, await self.manager.overlay(record, call: call)) }
                }
                var result = records
                for await (index, record) in group { result[index] = record }
                return result
            }
        }
        if let wantedCondition { records = records.filter { $0.condition == wantedCondition } }
        return list(records.map(\.documentValue), paging: paging, request: request)
    }

    func getDeployment(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let key = try parameter(context, "key")
        guard let stored = try await storage({ try await self.store.deployment(key) })?.value else {
            throw PMError.notFound("deployment '\(key)' not found")
        }
        let record = try Query(request).bool("live", default: true) ? await manager.overlay(stored, call: crmCall(request, context)) : stored
        return Reply.document(record.documentValue, headers: Self.etagHeaders(record.revision ?? 0), request: request)
    }

    func deleteDeployment(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let key = try parameter(context, "key")
        let result = try await manager.delete(key, preconditions: preconditions(request), call: crmCall(request, context), logger: context.logger)
        if result.isComplete {
            let body = DocumentValue.obj([
                "message": .str("Deployment deleted across environments"),
                "id": .str(key),
                "deleted_envs": .strings(result.deletedEnvs),
            ])
            return Reply.document(body, request: request)
        }
        let body = DocumentValue.obj([
            "message": .str("Deployment deletion pending in \(result.pendingEnvs.joined(separator: ", ")); PM keeps retrying"),
            "id": .str(key),
            "deleted_envs": .strings(result.deletedEnvs),
            "pending_envs": .strings(result.pendingEnvs),
        ])
        return Reply.document(body, status: .accepted, request: request)
    }

    func envMappings(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let key = try parameter(context, "key")
        guard try await storage({ try await self.store.deployment(key) }) != nil else {
            throw PMError.notFound("deployment '\(key)' not found")
        }
        let mappings = try await storage { try await self.store.mappings(key) }
        let body = DocumentValue.obj(["deployment_key": .str(key), "env_ids": .map(mappings), "cluster_ids": .map(mappings)])
        return Reply.document(body, request: request)
    }
}
