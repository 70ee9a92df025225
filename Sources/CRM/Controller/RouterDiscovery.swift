import Kube
import Synchronization

/// Router Services of the namespace (`app=router, platform=oaas`, control-plane spec §11.3): every one goes to
/// `status.routers`; the first by name is where functions and ODGM find the router.
final class RouterDiscovery: Sendable {
    private let routers = Mutex<[String: RouterEndpoint]>([:])

    /// Sorted by service name.
    var all: [RouterEndpoint] {
        routers.withLock { Array($0.values) }.sorted { $0.service < $1.service }
    }

    var primary: RouterEndpoint? { all.first }

    /// Updates from a watched Service; returns whether the set of routers changed.
    @discardableResult
    func update(_ service: KubeObject) -> Bool {
        let endpoint = Self.endpoint(service)
        return routers.withLock { routers in
            guard routers[service.name] != endpoint else { return false }
            routers[service.name] = endpoint
            return true
        }
    }

    @discardableResult
    func remove(_ name: String) -> Bool {
        routers.withLock { $0.removeValue(forKey: name) != nil }
    }

    /// The Service's port named `grpc`, else its first port.
    static func endpoint(_ service: KubeObject) -> RouterEndpoint {
        let ports = service.value(at: "spec", "ports")?.arrayValue ?? []
        let port = ports.first { $0["name"]?.stringValue == "grpc" } ?? ports.first
        return RouterEndpoint(service: service.name, port: Int32(clamping: port?["port"]?.intValue ?? 17447))
    }
}
