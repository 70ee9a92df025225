import GRPCCore
import OaaSProto

/// ``CRMClient`` over grpc-swift, generic over the transport: HTTP/2 to a remote CRM, or grpc-swift's in-process
/// transport for a CRM living in the same process (`oaas dev`, `serve --role pm,crm`) — same protocol, no hop.
public struct GRPCCRMClient<Transport: ClientTransport>: CRMClient {
    private let deployments: Oaas_Deployment_DeploymentService.Client<Transport>
    private let info: Oaas_Health_CrmInfoService.Client<Transport>
    private let health: Oaas_Health_HealthService.Client<Transport>

    /// `client` must be running (`runConnections()`) for calls to complete.
    public init(client: GRPCClient<Transport>) {
        deployments = .init(wrapping: client)
        info = .init(wrapping: client)
        health = .init(wrapping: client)
    }

    public func deploy(_ request: Oaas_Deployment_DeployRequest, call: CRMCall) async throws -> Oaas_Deployment_DeployResponse {
        try await deployments.deploy(request, metadata: call.metadata, options: call.options)
    }

    public func getDeploymentStatus(_ request: Oaas_Deployment_GetDeploymentStatusRequest, call: CRMCall) async throws -> Oaas_Deployment_GetDeploymentStatusResponse {
        try await deployments.getDeploymentStatus(request, metadata: call.metadata, options: call.options)
    }

    public func deleteDeployment(_ request: Oaas_Deployment_DeleteDeploymentRequest, call: CRMCall) async throws -> Oaas_Deployment_DeleteDeploymentResponse {
        try await deployments.deleteDeployment(request, metadata: call.metadata, options: call.options)
    }

    public func listClassRuntimes(_ request: Oaas_Deployment_ListClassRuntimesRequest, call: CRMCall) async throws -> Oaas_Deployment_ListClassRuntimesResponse {
        try await deployments.listClassRuntimes(request, metadata: call.metadata, options: call.options)
    }

    public func getClassRuntime(_ request: Oaas_Deployment_GetClassRuntimeRequest, call: CRMCall) async throws -> Oaas_Deployment_GetClassRuntimeResponse {
        try await deployments.getClassRuntime(request, metadata: call.metadata, options: call.options)
    }

    public func getEnvHealth(_ request: Oaas_Health_CrmEnvRequest, call: CRMCall) async throws -> Oaas_Health_CrmEnvHealth {
        try await info.getEnvHealth(request, metadata: call.metadata, options: call.options)
    }

    public func healthCheck(call: CRMCall) async throws -> Oaas_Health_HealthCheckResponse.ServingStatus {
        try await health.check(Oaas_Health_HealthCheckRequest(), metadata: call.metadata, options: call.options).status
    }
}
