import Foundation
import OaaSModels
import OaaSProto

/// The health of one env as PM reports it (spec §4.3 ClusterHealth) and uses it for placement (§5.2).
public struct ClusterHealth: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case healthy = "Healthy"
        case degraded = "Degraded"
        case unhealthy = "Unhealthy"
        case unknown = "Unknown"

        /// The CRM's spelling, case-insensitively; anything else is Unknown.
        init(crm text: String) {
            self = Status.allCases.first { $0.rawValue.lowercased() == text.trimmingCharacters(in: .whitespaces).lowercased() } ?? .unknown
        }

        /// Automatic placement only uses these (spec §5.2 step 1).
        public var isPlaceable: Bool { self == .healthy || self == .degraded }
    }

    /// PM's env name.
    public var clusterName: String
    /// The env name the CRM reports (`OPRC_CRM_ENV_NAME`).
    public var crmEnvName: String?
    public var status: Status
    public var crmVersion: String?
    /// Last time the CRM answered (RFC 3339); nil if it never did.
    public var lastSeen: Date?
    public var nodeCount: UInt32?
    public var readyNodes: UInt32?
    public var availability: Double?
    public var templates: [String]?
    /// Why the env is unhealthy when PM could not ask it (not part of the wire shape's required fields).
    public var message: String?

    public init(clusterName: String, status: Status, crmEnvName: String? = nil, lastSeen: Date? = nil, message: String? = nil) {
        self.clusterName = clusterName
        self.status = status
        self.crmEnvName = crmEnvName
        self.lastSeen = lastSeen
        self.message = message
    }

    /// From `CrmInfoService.GetEnvHealth`.
    init(env: String, reply: Oaas_Health_CrmEnvHealth, now: Date) {
        self.init(clusterName: env, status: Status(crm: reply.status), crmEnvName: reply.envName.isEmpty ? nil : reply.envName)
        crmVersion = reply.hasCrmVersion ? reply.crmVersion : nil
        lastSeen = reply.hasLastSeen && reply.lastSeen.seconds > 0
            ? Date(timeIntervalSince1970: Double(reply.lastSeen.seconds) + Double(reply.lastSeen.nanos) / 1e9)
            : now
        nodeCount = reply.hasNodeCount ? reply.nodeCount : nil
        readyNodes = reply.hasReadyNodes ? reply.readyNodes : nil
        availability = reply.hasAvailability && reply.availability.isFinite ? reply.availability : nil
        templates = reply.templates.isEmpty ? nil : reply.templates
    }

    /// From the `HealthService.Check` fallback: no counts, no availability.
    init(env: String, serving: Oaas_Health_HealthCheckResponse.ServingStatus, now: Date) {
        let status: Status = switch serving {
        case .serving: .healthy
        case .notServing: .unhealthy
        default: .unknown
        }
        self.init(clusterName: env, status: status, lastSeen: now)
    }

    /// `p(env)` of spec §5.2 step 2.
    func placementAvailability(assumed: Double) -> Double {
        Placement.envAvailability(reported: availability, readyNodes: readyNodes, nodeCount: nodeCount, assumed: assumed)
    }
}
