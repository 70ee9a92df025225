import GRPCCore
import Logging
import ServiceLifecycle

/// Runs the local CRMs of `oaas dev`: reconciles stored records at start, then re-checks unsettled runtimes
/// (endpoint functions coming up, deletions) every `recheckInterval` until shutdown.
public struct LocalRuntimeService: Service {
    public let crms: [LocalCRM]

    public init(crms: [LocalCRM]) {
        self.crms = crms
    }

    /// The gRPC services of one env's CRM.
    public static func grpcServices(for crm: LocalCRM) -> [any RegistrableRPCService] {
        [LocalDeploymentService(crm: crm), LocalCrmInfoService(crm: crm), LocalHealthService()]
    }

    public func run() async throws {
        for crm in crms { await crm.reconcileAll() }
        await withDiscardingTaskGroup { group in
            for crm in crms {
                group.addTask {
                    while !Task.isCancelled && !Task.isShuttingDownGracefully {
                        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: crm.options.recheckInterval) }
                        for name in await crm.unsettled() { await crm.reconcile(name) }
                    }
                }
            }
        }
    }
}
