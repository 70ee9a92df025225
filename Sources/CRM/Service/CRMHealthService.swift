import GRPCCore
import OaaSProto

/// `oaas.health.HealthService` (control-plane spec §8.3): SERVING while the API server answered within the last
/// 10 s, else NOT_SERVING. Watch sends the current status, then every change.
struct CRMHealthService: Oaas_Health_HealthService.SimpleServiceProtocol {
    let health: APIServerHealth
    /// How often Watch re-evaluates (the status can lapse without any event).
    let pollInterval: Duration

    func check(request: Oaas_Health_HealthCheckRequest, context: ServerContext) async throws
        -> Oaas_Health_HealthCheckResponse
    {
        response(health.isServing())
    }

    func watch(
        request: Oaas_Health_HealthCheckRequest, response writer: RPCWriter<Oaas_Health_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        var last: Bool?
        while !Task.isCancelled {
            let serving = health.isServing()
            if serving != last {
                try await writer.write(response(serving))
                last = serving
            }
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                return
            }
        }
    }

    private func response(_ serving: Bool) -> Oaas_Health_HealthCheckResponse {
        var message = Oaas_Health_HealthCheckResponse()
        message.status = serving ? .serving : .notServing
        return message
    }
}
