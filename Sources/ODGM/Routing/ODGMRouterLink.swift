import Foundation
import GRPCCore
import Logging
import OaaSCore
import OaaSProto
import RouterClient
import ServiceLifecycle

/// Keeps this node announced to the router (data-plane spec §7.1, §9.1 `OPRC_ROUTER_URL`): the registration
/// carries the node's address, env, hosted shards (readiness, primary) and collection configs. The lease itself is
/// kept by ``RouterRegistration`` (heartbeat every ttl/3, re-register after NOT_FOUND, deregister on shutdown);
/// this service re-announces when the node's collections or shard readiness change.
public final class ODGMRouterLink: Service, Sendable {
    private let node: ODGMNode
    private let registration: RouterRegistration
    private let refreshInterval: Duration

    /// - Parameters:
    ///   - address: the gRPC URL peers and the router use for this node (`ODGM_NODE_ADDR`, else
    ///     `http://<hostname>:<ODGM_HTTP_PORT>`).
    ///   - refreshInterval: how often the hosted shards are compared with what was announced.
    /// - Throws: `ConfigurationError` naming `OPRC_ROUTER_URL` when the URL is unusable.
    public convenience init(node: ODGMNode, routerURL: String, address: String, capabilities: Oprc_CapabilitiesResponse,
                            refreshInterval: Duration = .seconds(1), backoff: Backoff = Backoff(), logger: Logger) throws(ConfigurationError) {
        let announcement = Self.firstAnnouncement(of: node, address: address, capabilities: capabilities)
        self.init(node: node, refreshInterval: refreshInterval,
                  registration: try RouterRegistration(routerURL: routerURL, node: announcement, backoff: backoff, logger: logger))
    }

    /// Registers through a router client the caller runs (the router role of the same process).
    public convenience init<Transport: ClientTransport>(node: ODGMNode, client: GRPCClient<Transport>, address: String,
                                                        capabilities: Oprc_CapabilitiesResponse, refreshInterval: Duration = .seconds(1),
                                                        logger: Logger) {
        let announcement = Self.firstAnnouncement(of: node, address: address, capabilities: capabilities)
        self.init(node: node, refreshInterval: refreshInterval,
                  registration: RouterRegistration(client: client, node: announcement, logger: logger))
    }

    private init(node: ODGMNode, refreshInterval: Duration, registration: RouterRegistration) {
        self.node = node
        self.refreshInterval = refreshInterval
        self.registration = registration
    }

    private static func firstAnnouncement(of node: ODGMNode, address: String, capabilities: Oprc_CapabilitiesResponse) -> Oaas_Router_RegisterRequest {
        var announcement = announcement(of: node, address: address, capabilities: capabilities)
        announcement.instanceID = "odgm-\(node.config.nodeID)-\(UUID().uuidString.lowercased())"
        return announcement
    }

    /// The default address of a node: `http://<hostname>:<port>`.
    public static func defaultAddress(port: Int, hostname: String = ProcessInfo.processInfo.hostName) -> String {
        "http://\(hostname):\(port)"
    }

    /// Readiness (§11.1: "registered if a router is configured").
    public var isRegistered: Bool { registration.isRegistered }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.registration.run() }
            await cancelWhenGracefulShutdown { await self.refreshLoop() }
        }
    }

    private func refreshLoop() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: refreshInterval)
            } catch {
                return
            }
            refresh()
        }
    }

    /// Compares the node's current state with the announcement: new or changed collections re-register, a shard
    /// readiness change goes out with the next heartbeat.
    func refresh() {
        let current = registration.registration
        var fresh = Self.announcement(of: node, address: current.address, capabilities: current.capabilities)
        fresh.instanceID = current.instanceID
        if fresh.collections != current.collections {
            registration.replaceRegistration(fresh)
        } else if fresh.shards != current.shards {
            registration.updateShards(fresh.shards)
        }
    }

    /// The `RegisterRequest` describing `node` now.
    static func announcement(of node: ODGMNode, address: String, capabilities: Oprc_CapabilitiesResponse) -> Oaas_Router_RegisterRequest {
        var request = Oaas_Router_RegisterRequest()
        request.role = .odgm
        request.address = address
        request.env = node.config.env ?? ""
        request.odgmNodeID = node.config.nodeID
        request.capabilities = capabilities
        for collection in node.allCollections {
            request.collections.append(collection.spec.request)
            for shard in collection.hostedShards {
                let row = Int(shard.partition)
                let placement = collection.spec.placements.indices.contains(row)
                    ? collection.spec.placements[row].first { $0.shardID == shard.shardID } : nil
                var hosted = Oaas_Router_HostedShard()
                hosted.clsID = collection.spec.name
                hosted.partitionID = shard.partition
                hosted.shardID = shard.shardID
                hosted.primary = placement?.primary ?? false
                hosted.ready = shard.isReady
                request.shards.append(hosted)
            }
        }
        return request
    }
}
