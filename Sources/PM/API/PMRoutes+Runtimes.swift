import Foundation
import GRPCCore
import HTTPTypes
import Hummingbird
import OaaSModels
import OaaSProto

extension PMRoutes {
    static var partialEnvsHeader: HTTPField.Name { HTTPField.Name("X-Partial-Envs") ?? .via }

    /// ApiClassRuntimes across envs (or the one of `env`/`cluster`); envs that failed are named in `X-Partial-Envs`.
    func listClassRuntimes(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = Query(request)
        let paging = try Paging(query)
        let targets = try selectedEnv(query).map { [$0] } ?? envs.all
        let filter = RuntimeFilter(
            packageName: query.string("package_name"),
            classKey: query.string("class_key"),
            environment: query.string("environment"),
            status: query.string("status")
        )
        var message = Oaas_Deployment_ListClassRuntimesRequest()
        if let value = filter.packageName { message.packageName = value }
        if let value = filter.classKey { message.classKey = value }
        if let value = filter.environment { message.targetEnv = value }
        if let value = filter.status { message.status = value }
        let listRequest = message
        let call = crmCall(request, context)
        let results = await withTaskGroup(of: (String, Result<[Oaas_Runtime_ClassRuntimeSummary], RPCError>).self) { group in
            for env in targets {
                group.addTask {
                    let result = await manager.dispatcher.read(env, { try await env.client.listClassRuntimes(listRequest, call: $0).items }, call: call)
                    return (env.name, result)
                }
            }
            var collected: [(String, Result<[Oaas_Runtime_ClassRuntimeSummary], RPCError>)] = []
            for await entry in group { collected.append(entry) }
            return collected
        }
        var items: [(env: String, summary: Oaas_Runtime_ClassRuntimeSummary)] = []
        var failed: [String] = []
        for (env, result) in results {
            switch result {
            case .success(let summaries):
                // A reference CRM ignores filters, so they are applied here too.
                items += summaries.filter(filter.matches).map { (env, $0) }
            case .failure(let error):
                failed.append(env)
                context.logger.warning("class runtimes of an env unavailable", metadata: ["env": "\(env)", "error": "\(CRMFailure.describe(error))"])
            }
        }
        items.sort { ($0.summary.id, $0.env) < ($1.summary.id, $1.env) }
        var headers = Paging.headers(total: items.count)
        if !failed.isEmpty { headers[Self.partialEnvsHeader] = failed.sorted().joined(separator: ",") }
        let page = paging.page(items).map { Views.classRuntime($0.summary, env: $0.env) }
        return Reply.document(.array(page), headers: headers, request: request)
    }

    /// One ApiClassRuntime: from the given env, else the first env (by name) that has it.
    func getClassRuntime(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try parameter(context, "id")
        let query = Query(request)
        var message = Oaas_Deployment_GetClassRuntimeRequest()
        message.deploymentID = id
        let getRequest = message
        let call = crmCall(request, context)
        if let env = try selectedEnv(query) {
            switch await manager.dispatcher.read(env, { try await env.client.getClassRuntime(getRequest, call: $0) }, call: call) {
            case .success(let reply) where reply.hasDeployment:
                return Reply.document(Views.classRuntime(reply.deployment, env: env.name), request: request)
            case .success:
                throw PMError.notFound("class runtime '\(id)' not found in env '\(env.name)'")
            case .failure(let error):
                throw CRMFailure.apiError(error, env: env.name)
            }
        }
        let results = await withTaskGroup(of: (String, Result<Oaas_Deployment_GetClassRuntimeResponse, RPCError>).self) { group in
            for env in envs.all {
                group.addTask { (env.name, await manager.dispatcher.read(env, { try await env.client.getClassRuntime(getRequest, call: $0) }, call: call)) }
            }
            var collected: [String: Result<Oaas_Deployment_GetClassRuntimeResponse, RPCError>] = [:]
            for await (env, result) in group { collected[env] = result }
            return collected
        }
        var failed: [String] = []
        for env in envs.names {
            switch results[env] {
            case .success(let reply)? where reply.hasDeployment:
                return Reply.document(Views.classRuntime(reply.deployment, env: env), request: request)
            case .failure(let error)? where error.code != .notFound:
                failed.append(env)
            default:
                continue
            }
        }
        var headers = HTTPFields()
        if !failed.isEmpty { headers[Self.partialEnvsHeader] = failed.joined(separator: ",") }
        return Reply.error(PMError.notFound("class runtime '\(id)' not found in any env" + (failed.isEmpty ? "" : " (unreachable: \(failed.joined(separator: ", ")))")), headers: headers)
    }
}

/// The filters of `GET /class-runtimes`, with the CRM's semantics (spec §8.3 ListClassRuntimes).
struct RuntimeFilter: Sendable {
    var packageName: String?
    /// Qualified (`pkg.Class`) or not.
    var classKey: String?
    var environment: String?
    /// `Available`/`Progressing`/… or `RUNNING`/`DEPLOYING`/…, case-insensitive.
    var status: String?

    func matches(_ summary: Oaas_Runtime_ClassRuntimeSummary) -> Bool {
        if let packageName, summary.packageName != packageName { return false }
        if let classKey, classKey != summary.classKey, classKey != "\(summary.packageName).\(summary.classKey)" { return false }
        if let environment, summary.targetEnvironment != environment { return false }
        if let status {
            guard let wanted = Self.condition(status) else { return false }
            return summary.status.condition == wanted
        }
        return true
    }

    static func condition(_ text: String) -> Oaas_Runtime_DeploymentCondition? {
        switch text.lowercased() {
        case "available", "running": .running
        case "progressing", "deploying": .deploying
        case "degraded", "down": .down
        case "pending": .pending
        case "deleting", "deleted": .deleted
        default: nil
        }
    }
}
