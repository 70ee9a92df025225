import Foundation
import GRPCCore
import Kube
import KubeTestServer
import OaaSProto
import Testing

@testable import CRM

/// Two CRM replicas with leader election (control-plane spec §9.3): only the Lease holder reconciles, and stopping
/// it hands over within the lease duration.
@Suite("CRM leader election", .serialized)
struct RoleLeaderElectionTests {
    private func replica(_ server: KubeTestServer, pod: String) throws -> CRMRole {
        let config = CRMHarness.config(["OPRC_CRM_FEATURES_LEADER_ELECTION": "true", "POD_NAME": pod]) { config in
            // Long enough that a loaded CI machine never misses a renewal; hand-over on stop is by release, not expiry.
            config.timings.leaseDuration = .seconds(8)
            config.timings.renewDeadline = .seconds(6)
            config.timings.retryPeriod = .milliseconds(200)
        }
        return CRMRole(config: config, client: try CRMHarness.makeClient(server), logger: CRMHarness.quietLogger())
    }

    private func holder(_ server: KubeTestServer) -> String? {
        server.object("leases.coordination.k8s.io", namespace: CRMHarness.namespace, name: "oaas-crm-leader")?
            .value(at: "spec", "holderIdentity")?.stringValue
    }

    private func deploy(_ role: CRMRole, id: String) async throws {
        _ = try await DeploymentService(context: role.serviceContext).deploy(
            request: ServerRequest(metadata: [:], message: CRMHarness.deployRequest(CRMHarness.unit(id: id, deploymentKey: id))),
            context: crmServerContext("Deploy"))
    }

    /// Pod names that reported Events about `owner`.
    private func reporters(_ server: KubeTestServer, owner: String) -> Set<String> {
        Set(CRMHarness.events(server)
            .filter { $0.value(at: "involvedObject", "name")?.stringValue == owner }
            .compactMap { $0["reportingInstance"]?.stringValue })
    }

    @Test func onlyTheLeaseHolderReconcilesAndStoppingItHandsOver() async throws {
        try await CRMHarness.withServer { server, _ in
            let replicas = [try replica(server, pod: "crm-a"), try replica(server, pod: "crm-b")]
            let pods = ["crm-a", "crm-b"]
            let tasks = replicas.map { role in
                Task { try await CRMHarness.running(role) { try await Task.sleep(for: .seconds(3600)) } }
            }
            defer { for task in tasks { task.cancel() } }

            try await CRMHarness.eventually(.seconds(10), "a leader") { holder(server) != nil }
            let leaderIndex = try #require(pods.firstIndex { holder(server)?.hasPrefix($0 + "_") == true })
            let follower = 1 - leaderIndex
            try await CRMHarness.eventually(.seconds(5), "exactly one replica leading") {
                replicas[leaderIndex].elector?.isLeader == true && replicas[follower].elector?.isLeader == false
            }

            // The follower's gRPC writes the CR; only the leader reconciles it.
            try await deploy(replicas[follower], id: "one-00000001")
            try await CRMHarness.eventually(.seconds(10), "children of the first runtime") {
                !CRMHarness.owned(server, "deployments.apps", owner: "one-00000001").isEmpty
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(reporters(server, owner: "one-00000001") == [pods[leaderIndex]])

            // Stop the leader: it releases the Lease and the follower takes over well within the lease duration.
            let stopped = ContinuousClock.now
            tasks[leaderIndex].cancel()
            _ = try? await tasks[leaderIndex].value
            try await CRMHarness.eventually(.seconds(10), "the follower leads") {
                holder(server)?.hasPrefix(pods[follower] + "_") == true
            }
            #expect(ContinuousClock.now - stopped < .seconds(6))  // by release: the 8 s lease did not have to expire

            try await deploy(replicas[follower], id: "two-00000002")
            try await CRMHarness.eventually(.seconds(10), "the new leader reconciles") {
                !CRMHarness.owned(server, "deployments.apps", owner: "two-00000002").isEmpty
            }
            #expect(reporters(server, owner: "two-00000002") == [pods[follower]])
            for task in tasks { task.cancel() }
            for task in tasks { _ = try? await task.value }
            for replica in replicas { try await replica.client.shutdown() }
        }
    }
}
