import Kube
import Synchronization

/// The controller's view of the namespace: the latest version of every watched object, per resource and name.
/// Fed by the informers and written through after our own apply/delete, so a reconcile sees its own writes before
/// the watch echoes them. A late watch event never replaces a newer cached version.
final class ObjectCache: Sendable {
    private let objects = Mutex<[KubeResource: [String: KubeObject]]>([:])

    func get(_ resource: KubeResource, _ name: String) -> KubeObject? {
        objects.withLock { $0[resource]?[name] }
    }

    func all(_ resource: KubeResource) -> [KubeObject] {
        objects.withLock { Array(($0[resource] ?? [:]).values) }.sorted { $0.name < $1.name }
    }

    /// Objects of `resource` whose label `oaas.io/owner` is `owner`, by name.
    func owned(by owner: String, _ resource: KubeResource) -> [KubeObject] {
        all(resource).filter { $0.labels[CRMKeys.owner] == owner }
    }

    /// Stores `object` unless the cache already holds a newer version of it.
    func upsert(_ resource: KubeResource, _ object: KubeObject) {
        objects.withLock { state in
            if let current = state[resource]?[object.name], Self.isNewer(current, than: object) { return }
            state[resource, default: [:]][object.name] = object
        }
    }

    /// Forgets `object` unless the cached one is a newer incarnation (re-created since).
    func remove(_ resource: KubeResource, _ object: KubeObject) {
        objects.withLock { state in
            if let current = state[resource]?[object.name], current.uid != object.uid || Self.isNewer(current, than: object) {
                return
            }
            state[resource]?[object.name] = nil
        }
    }

    /// Forgets the object called `name` (after our own delete).
    func remove(_ resource: KubeResource, name: String) {
        objects.withLock { _ = $0[resource]?.removeValue(forKey: name) }
    }

    /// Forgets every object of `resource` (before an informer starts over).
    func clear(_ resource: KubeResource) {
        objects.withLock { _ = $0.removeValue(forKey: resource) }
    }

    /// resourceVersions are opaque, but every API server we know uses increasing integers; only when both parse is
    /// one called newer.
    static func isNewer(_ lhs: KubeObject, than rhs: KubeObject) -> Bool {
        guard lhs.uid == rhs.uid, let left = lhs.resourceVersion.flatMap({ Int64($0) }),
              let right = rhs.resourceVersion.flatMap({ Int64($0) })
        else { return false }
        return left > right
    }
}
