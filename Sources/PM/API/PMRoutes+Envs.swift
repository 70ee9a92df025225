import Foundation
import Hummingbird
import OaaSModels

extension PMRoutes {
    func listEnvs(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let refresh = try Query(request).bool("refresh", default: false)
        let healths = Dictionary(await health.healthOfAll(refresh: refresh).map { ($0.clusterName, $0) }, uniquingKeysWith: { first, _ in first })
        let views = envs.all.map { Views.envInfo($0, isDefault: $0.name == envs.defaultEnv, health: healths[$0.name]) }
        return Reply.document(.array(views), headers: Paging.headers(total: views.count), request: request)
    }

    func listEnvHealth(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let refresh = try Query(request).bool("refresh", default: false)
        let views = await health.healthOfAll(refresh: refresh).map(Views.clusterHealth)
        return Reply.document(.array(views), headers: Paging.headers(total: views.count), request: request)
    }

    func getEnv(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try parameter(context, "name")
        guard let env = envs[name] else { throw PMError.notFound("env '\(name)' is not configured") }
        let current = await health.health(of: name, refresh: try Query(request).bool("refresh", default: false), correlationId: context.correlationId)
        return Reply.document(Views.envInfo(env, isDefault: name == envs.defaultEnv, health: current), request: request)
    }

    func getEnvHealth(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try parameter(context, "name")
        let refresh = try Query(request).bool("refresh", default: false)
        guard let current = await health.health(of: name, refresh: refresh, correlationId: context.correlationId) else {
            throw PMError.notFound("env '\(name)' is not configured")
        }
        return Reply.document(Views.clusterHealth(current), request: request)
    }

    /// `GET /health` (spec §4.2): storage status and how many envs were last seen healthy; 503 when storage fails.
    func serviceHealth(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        var storage: DocumentValue = .obj(["status": .str("ok")])
        var healthy = true
        do {
            try await store.health()
        } catch {
            healthy = false
            storage = .obj(["status": .str("error"), "message": .str("\(error)")])
        }
        var healthyEnvs = 0
        for env in envs.all where await health.cached(env.name)?.status.isPlaceable ?? false { healthyEnvs += 1 }
        let body = DocumentValue.obj([
            "status": .str(healthy ? "healthy" : "unhealthy"),
            "service": .str("oaas-pm"),
            "version": .str(PMRole.version),
            "timestamp": .str(Timestamps.now()),
            "storage": storage,
            "envs": .obj(["healthy": .int(healthyEnvs), "total": .int(envs.all.count)]),
        ])
        return Reply.document(body, status: healthy ? .ok : .serviceUnavailable, request: request)
    }
}
