import Foundation
import GRPCCore
import Kube
import OaaSProto

/// `oaas.health.CrmInfoService` (control-plane spec §8.3 GetEnvHealth): node readiness, availability (or the mock
/// override) and the registered templates of this env.
struct CrmInfoService: Oaas_Health_CrmInfoService.ServiceProtocol {
    static let nodes = KubeResource(group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false)

    let context: CRMServiceContext

    func getEnvHealth(
        request: ServerRequest<Oaas_Health_CrmEnvRequest>, context serverContext: ServerContext
    ) async throws -> ServerResponse<Oaas_Health_CrmEnvHealth> {
        try await context.serve("GetEnvHealth", request.metadata) { call in
            await envHealth(call)
        }
    }

    func envHealth(_ call: CRMServiceContext.Call) async -> Oaas_Health_CrmEnvHealth {
        let config = context.config
        var health = Oaas_Health_CrmEnvHealth()
        health.envName = config.envName
        health.crmVersion = CRMRole.version
        health.lastSeen = Self.timestamp(Date())
        health.templates = context.discovery.registeredTemplates
        if let mock = config.mockClusterAvailability { health.availability = mock }
        let client = context.client
        do {
            let nodes = try await call.kube("list nodes") { try await client.listAll(Self.nodes, namespace: nil) }
            let total = nodes.items.count
            let ready = nodes.items.filter(Self.isReady).count
            health.nodeCount = UInt32(clamping: total)
            health.readyNodes = UInt32(clamping: ready)
            if config.mockClusterAvailability == nil, total > 0 {
                health.availability = Double(ready) / Double(total)
            }
            health.status = ready == 0 ? "Unhealthy" : ready == total ? "Healthy" : "Degraded"
        } catch let error as KubeError where error.serverAnswered {
            // Reachable but nodes are not listable (RBAC): nothing to count.
            call.logger.info("nodes are not listable", metadata: ["error": "\(error)"])
            health.status = "Unknown"
        } catch {
            call.logger.warning("kubernetes API unreachable", metadata: ["error": "\(error)"])
            health.status = "Unhealthy"
        }
        return health
    }

    static func isReady(_ node: KubeObject) -> Bool {
        let conditions = node.value(at: "status", "conditions")?.arrayValue ?? []
        return conditions.contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
    }

    static func timestamp(_ date: Date) -> Oaas_Common_Timestamp {
        var timestamp = Oaas_Common_Timestamp()
        let seconds = date.timeIntervalSince1970.rounded(.down)
        timestamp.seconds = Int64(seconds)
        timestamp.nanos = Int32(clamping: Int64((date.timeIntervalSince1970 - seconds) * 1e9))
        return timestamp
    }
}
