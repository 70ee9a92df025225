import GRPCCore
import OaaSCore
import OaaSProto

/// `grpc.health.v1.Health`: SERVING iff the process is ready (spec §11.1).
public struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let container: ServiceContainer

    public init(container: ServiceContainer) {
        self.container = container
    }

    public func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = await container.notReadyReasons().isEmpty ? .serving : .notServing
        return response
    }

    public func watch(request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext) async throws {
        var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
        while !Task.isCancelled {
            let status: Grpc_Health_V1_HealthCheckResponse.ServingStatus = await container.notReadyReasons().isEmpty ? .serving : .notServing
            if status != last {
                var message = Grpc_Health_V1_HealthCheckResponse()
                message.status = status
                try await response.write(message)
                last = status
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}
