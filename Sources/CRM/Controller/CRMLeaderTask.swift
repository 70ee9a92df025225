import Kube
import Logging

/// A loop only the leader runs besides the controller — the hook for the NFR analyzer (phase 2) and enforcer
/// (phase 3). It is started when this replica becomes leader and cancelled when leadership is lost or at shutdown;
/// returning early is allowed (e.g. a disabled feature) and does not affect the controller.
public protocol CRMLeaderTask: Sendable {
    var name: String { get }
    func run(context: CRMLeaderContext) async throws
}

/// What a leader task gets: the shared Kubernetes client (manager `oprc-crm`; the enforcer passes its own
/// `fieldManager` to `apply`), the configuration and a logger.
public struct CRMLeaderContext: Sendable {
    public let client: KubeClient
    public let config: CRMConfig
    public let logger: Logger
}
