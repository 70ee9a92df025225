import CRM
import GRPCCore
import OaaSProto

/// The local CRM behind the same gRPC services as the Kubernetes CRM, so PM talks to both through one client
/// (in-process transport under `oaas dev`).
public struct LocalDeploymentService: Oaas_Deployment_DeploymentService.ServiceProtocol {
    let crm: LocalCRM

    public init(crm: LocalCRM) {
        self.crm = crm
    }

    public func deploy(
        request: ServerRequest<Oaas_Deployment_DeployRequest>, context: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_DeployResponse> {
        let correlationId = request.metadata["x-correlation-id"].first { _ in true }.flatMap { value -> String? in
            if case .string(let text) = value { return text }
            return nil
        }
        guard request.message.hasDeploymentUnit else {
            throw RPCError(code: .invalidArgument, message: "deployment_unit: required")
        }
        let response = try await mapped { () async throws(CRMError) in
            try await crm.deploy(request.message.deploymentUnit, correlationId: correlationId)
        }
        var metadata = Metadata()
        if let correlationId { metadata.addString(correlationId, forKey: "x-correlation-id") }
        return ServerResponse(message: response, metadata: metadata)
    }

    public func getDeploymentStatus(
        request: ServerRequest<Oaas_Deployment_GetDeploymentStatusRequest>, context: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_GetDeploymentStatusResponse> {
        ServerResponse(message: try await mapped { () async throws(CRMError) in try await crm.status(request.message.deploymentID) })
    }

    public func deleteDeployment(
        request: ServerRequest<Oaas_Deployment_DeleteDeploymentRequest>, context: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_DeleteDeploymentResponse> {
        ServerResponse(message: try await mapped { () async throws(CRMError) in try await crm.delete(request.message.deploymentID) })
    }

    public func listClassRuntimes(
        request: ServerRequest<Oaas_Deployment_ListClassRuntimesRequest>, context: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_ListClassRuntimesResponse> {
        ServerResponse(message: try await mapped { () async throws(CRMError) in try await crm.list(request.message) })
    }

    public func getClassRuntime(
        request: ServerRequest<Oaas_Deployment_GetClassRuntimeRequest>, context: ServerContext
    ) async throws -> ServerResponse<Oaas_Deployment_GetClassRuntimeResponse> {
        ServerResponse(message: try await mapped { () async throws(CRMError) in try await crm.get(request.message.deploymentID) })
    }

    private func mapped<T>(_ body: () async throws(CRMError) -> T) async throws -> T {
        do { return try await body() } catch { throw error.rpcError }
    }
}

public struct LocalCrmInfoService: Oaas_Health_CrmInfoService.SimpleServiceProtocol {
    let crm: LocalCRM

    public init(crm: LocalCRM) {
        self.crm = crm
    }

    public func getEnvHealth(request: Oaas_Health_CrmEnvRequest, context: ServerContext) async throws -> Oaas_Health_CrmEnvHealth {
        crm.envHealth()
    }
}

/// `oaas.health.HealthService`: the local CRM is serving whenever the process is.
public struct LocalHealthService: Oaas_Health_HealthService.SimpleServiceProtocol {
    public init() {}

    public func check(request: Oaas_Health_HealthCheckRequest, context: ServerContext) async throws -> Oaas_Health_HealthCheckResponse {
        var response = Oaas_Health_HealthCheckResponse()
        response.status = .serving
        return response
    }

    public func watch(
        request: Oaas_Health_HealthCheckRequest, response: RPCWriter<Oaas_Health_HealthCheckResponse>, context: ServerContext
    ) async throws {
        var message = Oaas_Health_HealthCheckResponse()
        message.status = .serving
        try await response.write(message)
        // Nothing changes until the process stops; hold the stream open until the client goes away.
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
    }
}
