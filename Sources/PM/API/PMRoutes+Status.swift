import Foundation
import GRPCCore
import Hummingbird
import OaaSModels
import OaaSProto

extension PMRoutes {
    /// DeploymentStatusView (spec §4.3): the record with each env's live ClassRuntime state.
    func deploymentStatusView(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let key = try parameter(context, "key")
        guard let stored = try await storage({ try await self.store.deployment(key) })?.value else {
            throw PMError.notFound("deployment '\(key)' not found")
        }
        let call = crmCall(request, context)
        async let repliesTask = manager.liveReplies(stored, call: call)
        async let summariesTask = runtimeSummaries(stored, call: call)
        let (replies, summaries) = await (repliesTask, summariesTask)
        var record = stored
        DeploymentManager.applyLive(replies, to: &record)
        let status = record.status ?? DeploymentStatusSummary()
        let order = status.selectedEnvs + status.envs.keys.sorted().filter { !status.selectedEnvs.contains($0) }
        let envViews = order.compactMap { env -> DocumentValue? in
            guard let state = status.envs[env] else { return nil }
            let reply = try? replies[env]?.get()
            return envStatus(env: env, state: state, reply: reply, summary: summaries[env], record: record)
        }
        let body = DocumentValue.obj([
            "key": .str(record.key),
            "package_name": .str(record.packageName),
            "class_key": .str(record.classKey),
            "condition": .str(record.condition.rawValue),
            "status": status.documentValue,
            "envs": .array(envViews),
        ])
        return Reply.document(body, headers: Self.etagHeaders(record.revision ?? 0), request: request)
    }

    private func envStatus(
        env: String,
        state: EnvDeploymentState,
        reply: Oaas_Deployment_GetDeploymentStatusResponse?,
        summary: Oaas_Runtime_ClassRuntimeSummary?,
        record: OClassDeployment
    ) -> DocumentValue {
        let runtime = reply.map(LiveStatus.runtimeStatus)
        let functions = runtime?.functions ?? []
        let ready = functions.filter { $0.hasReady && $0.ready }.count
        var template = record.envTemplates[env]
        if let reply, reply.hasDeployment, reply.deployment.hasSelectedTemplate { template = reply.deployment.selectedTemplate }
        let templateSource: String? = reply == nil && template != nil ? "hint" : nil
        let liveCondition = runtime.flatMap { LiveStatus.condition($0.condition) } ?? LiveStatus.stored(state)
        let runtimeMessage = runtime.flatMap { $0.hasMessage ? $0.message : nil }
        let lastUpdated = runtime.flatMap { $0.lastUpdated.isEmpty ? nil : $0.lastUpdated } ?? state.lastAttemptAt
        var compliance: DocumentValue = .null
        if let summary, summary.hasNfrCompliance { compliance = Views.nfrCompliance(summary.nfrCompliance) }
        let references: [DocumentValue] = (reply?.statusResourceRefs ?? []).map(Views.resourceRef)
        return .obj([
            "env": .str(env),
            "unit_id": .str(state.unitId),
            "dispatch": .str(state.dispatch.rawValue),
            "condition": .str(LiveStatus.displayName(liveCondition)),
            "phase": .str(runtime.map { LiveStatus.phaseName($0.phase) } ?? "UNKNOWN"),
            "template": Self.nullable(template),
            "template_source": Self.nullable(templateSource),
            "message": Self.nullable(runtimeMessage ?? state.message),
            "ready": .str("\(ready)/\(functions.count)"),
            "functions": .array(functions.map(Views.functionStatus)),
            "resource_refs": .array(references),
            "nfr_recommendations": record.status?.nfrRecommendations[env] ?? .null,
            "nfr_compliance": compliance,
            "last_error": Self.nullable(state.lastError),
            "last_updated": Self.nullable(lastUpdated),
        ])
    }

    static func nullable(_ value: String?) -> DocumentValue {
        value.map(DocumentValue.string) ?? .null
    }

    /// `GetClassRuntime` of every accepted env (for NFR compliance), concurrently; failures are left out.
    private func runtimeSummaries(_ record: OClassDeployment, call: CRMCall) async -> [String: Oaas_Runtime_ClassRuntimeSummary] {
        let states = record.status?.envs ?? [:]
        return await withTaskGroup(of: (String, Oaas_Runtime_ClassRuntimeSummary)?.self) { group in
            for (env, state) in states where state.dispatch == .accepted {
                guard let crm = envs[env] else { continue }
                group.addTask {
                    var request = Oaas_Deployment_GetClassRuntimeRequest()
                    request.deploymentID = state.unitId
                    let reply = try? await crm.client.getClassRuntime(request, call: call.with(timeout: crm.config.timeout))
                    return reply.flatMap { $0.hasDeployment ? (env, $0.deployment) : nil }
                }
            }
            var result: [String: Oaas_Runtime_ClassRuntimeSummary] = [:]
            for await entry in group {
                if let (env, summary) = entry { result[env] = summary }
            }
            return result
        }
    }

    /// `GET /deployment-status/{unit_id}`: the CR condition in one env (`env`/`cluster`, else the default env).
    func deploymentStatus(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let unitId = try parameter(context, "unit")
        let query = Query(request)
        guard let env = try selectedEnv(query) ?? envs.defaultEnv.flatMap({ envs[$0] }) else {
            throw PMError(.unknownEnv, "no env given and no default env configured", field: "env")
        }
        var statusRequest = Oaas_Deployment_GetDeploymentStatusRequest()
        statusRequest.deploymentID = unitId
        let message = statusRequest
        let result = await manager.dispatcher.read(env, { call in try await env.client.getDeploymentStatus(message, call: call) }, call: crmCall(request, context))
        switch result {
        case .success(let reply): return Reply.document(Views.deploymentStatus(unitId: unitId, reply), request: request)
        case .failure(let error): throw CRMFailure.apiError(error, env: env.name)
        }
    }
}
