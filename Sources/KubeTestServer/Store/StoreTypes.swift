import Foundation

/// Where an object lives inside one resource: `("", name)` for cluster-scoped objects.
struct ObjectKey: Hashable, Comparable, Sendable {
    var namespace: String
    var name: String

    static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }

    var text: String { "\(namespace)/\(name)" }
}

struct ObjectLocation: Hashable, Sendable {
    var groupResource: String
    var key: ObjectKey
}

/// A stored object: its JSON without `apiVersion`, `kind` and `managedFields` (added when rendered, so every served
/// version and the ownership bookkeeping stay consistent), plus the ownership entries.
struct StoredObject: Sendable, Equatable {
    var json: TestJSON
    var managed: [ManagedEntry]

    var uid: String { json.value(at: "metadata", "uid")?.stringValue ?? "" }
    var resourceVersion: String { json.value(at: "metadata", "resourceVersion")?.stringValue ?? "" }
}

/// One entry of the retained event history (the window a watch can resume from).
struct LoggedEvent: Sendable {
    var revision: Int64
    var groupResource: String
    /// `ADDED`, `MODIFIED` or `DELETED`.
    var type: String
    var object: StoredObject
    /// The state before a modification, so label-selector watches can turn it into ADDED/DELETED.
    var previous: StoredObject?
}

/// What a watch response writes next.
enum WatchItem: Sendable {
    case event(TestJSON)
    case end
}

struct Watcher: Sendable {
    var info: ResourceInfo
    var namespace: String?
    var labels: LabelSelectorExpression
    var fields: FieldSelectorExpression
    var continuation: AsyncStream<WatchItem>.Continuation

    func selects(_ object: TestJSON) -> Bool {
        labels.matches(object) && fields.matches(object)
    }
}

/// Work for the background garbage collector.
enum GCWork: Sendable {
    /// An object was removed: delete (or detach from) its dependents.
    case ownerGone(uid: String)
    /// An object is in foreground deletion: delete its dependents, then drop its `foregroundDeletion` finalizer.
    case foreground(uid: String)
}

struct DeleteOptions: Sendable {
    /// `Background`, `Foreground` or `Orphan`.
    var propagation = "Background"
    var preconditionResourceVersion: String?
    var preconditionUID: String?
}

enum PatchKind: Sendable {
    case merge
    case json
    case apply
}

/// A request as the server saw it (test hook: assert what a controller sent).
public struct RecordedRequest: Sendable, Hashable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var contentType: String?
}

enum ServerClock {
    /// RFC 3339 in whole seconds, as metadata timestamps are.
    static func now() -> String {
        Date().formatted(.iso8601)
    }
}
