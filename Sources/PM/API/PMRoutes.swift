import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OaaSModels

/// The REST API of spec §4.2 on a Hummingbird router. `register(on:)` adds the metrics, correlation, CORS and
/// error-envelope middleware first, so they also cover the router's not-found path.
struct PMRoutes: Sendable {
    let manager: DeploymentManager
    let packages: PackageService
    let metrics: PMMetrics
    let body: HTTPBody
    let logger: Logger

    var store: PMStore { manager.store }
    var envs: CRMEnvironments { manager.envs }
    var health: HealthMonitor { manager.health }
    var config: PMConfig { manager.config }

    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    func register(on router: Router<BasicRequestContext>) {
        let table = routeTable()
        var known = KnownRoutes()
        for (path, method, _) in table { known.add(path, method) }
        known.explain("/api/v1/classes/{cls}", "classes live in packages: update or delete the package instead")
        router.add(middleware: PMRequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: CorrelationMiddleware())
        router.add(middleware: PMCORSMiddleware(origins: config.corsOrigins))
        router.add(middleware: PMErrorMiddleware(routes: known))
        for (path, method, handler) in table {
            router.on(RouterPath(path), method: method, use: handler)
        }
    }

    private func routeTable() -> [(String, HTTPRequest.Method, Handler)] {
        let v1 = "/api/v1"
        return [
            ("\(v1)/packages", .post, createPackage),
            ("\(v1)/packages", .get, listPackages),
            ("\(v1)/packages/{name}", .get, getPackage),
            ("\(v1)/packages/{name}", .post, updatePackage),
            ("\(v1)/packages/{name}", .put, updatePackage),
            ("\(v1)/packages/{name}", .delete, deletePackage),
            ("\(v1)/classes", .get, listClasses),
            ("\(v1)/classes/{cls}", .get, getClass),
            ("\(v1)/functions", .get, listFunctions),
            ("\(v1)/functions/{function}", .get, getFunction),
            ("\(v1)/deployments", .post, postDeployment),
            ("\(v1)/deployments", .get, listDeployments),
            ("\(v1)/deployments/{key}", .get, getDeployment),
            ("\(v1)/deployments/{key}", .put, putDeployment),
            ("\(v1)/deployments/{key}", .delete, deleteDeployment),
            ("\(v1)/deployments/{key}/status", .get, deploymentStatusView),
            ("\(v1)/deployments/{key}/env-mappings", .get, envMappings),
            ("\(v1)/deployments/{key}/cluster-mappings", .get, envMappings),
            ("\(v1)/deployment-status/{unit}", .get, deploymentStatus),
            ("\(v1)/class-runtimes", .get, listClassRuntimes),
            ("\(v1)/class-runtimes/{id}", .get, getClassRuntime),
            ("\(v1)/envs", .get, listEnvs),
            ("\(v1)/envs/health", .get, listEnvHealth),
            ("\(v1)/envs/{name}", .get, getEnv),
            ("\(v1)/envs/{name}/health", .get, getEnvHealth),
            ("/health", .get, serviceHealth),
        ]
    }

    // MARK: Shared helpers

    /// A path parameter, percent-decoded.
    func parameter(_ context: BasicRequestContext, _ name: String) throws(PMError) -> String {
        guard let raw = context.parameters.get(name) else { throw PMError(.badRequest, "missing path parameter '\(name)'") }
        return raw.removingPercentEncoding ?? raw
    }

    /// The CRM call context of a request: its correlation id and a child of its trace (spec §8.1).
    func crmCall(_ request: Request, _ context: BasicRequestContext) -> CRMCall {
        let traceparent = HTTPField.Name("traceparent").flatMap { request.headers[$0] }
        return CRMCall(correlationId: context.correlationId, timeout: CRMEnvConfig.defaultTimeout, traceparent: TraceContext.child(of: traceparent))
    }

    func preconditions(_ request: Request) -> Preconditions {
        Preconditions(ifMatch: request.headers[.ifMatch], ifNoneMatch: request.headers[.ifNoneMatch])
    }

    func list(_ items: [DocumentValue], paging: Paging, request: Request) -> Response {
        Reply.document(.array(paging.page(items)), headers: Paging.headers(total: items.count), request: request)
    }

    func storage<T: Sendable>(_ body: () async throws -> T) async throws(PMError) -> T {
        try await manager.storage(body)
    }

    static func etagHeaders(_ revision: UInt64, location: String? = nil) -> HTTPFields {
        var headers = HTTPFields()
        headers[.eTag] = Preconditions.etag(revision)
        if let location { headers[.location] = location }
        return headers
    }

    /// The env named by `env` or `cluster`; nil when neither is given; 400 UNKNOWN_ENV for others.
    func selectedEnv(_ query: Query) throws(PMError) -> CRMEnvironment? {
        guard let name = query.string("env") ?? query.string("cluster") else { return nil }
        guard let env = envs[name] else {
            let field = query.string("env") != nil ? "env" : "cluster"
            throw PMError(.unknownEnv, "\(field): env '\(name)' is not configured (configured: \(envs.names.joined(separator: ", ")))", field: field)
        }
        return env
    }
}
