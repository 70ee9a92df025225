import Foundation

/// Everything the server holds. Mutated only under the store's lock, so every write, its resourceVersion and its
/// watch events happen in one order.
struct State {
    /// The global resourceVersion counter: one step per write, like an etcd revision.
    var revision: Int64
    var registry: [String: ResourceInfo] = [:]
    /// The version hooks and the garbage collector render with, per group-resource.
    var preferred: [String: ResourceInfo] = [:]
    var objects: [String: [ObjectKey: StoredObject]] = [:]
    var uidIndex: [String: ObjectLocation] = [:]

    var log: [LoggedEvent] = []
    /// Watches from a version below this get 410 Gone: the events after it are no longer retained.
    var compactedThrough: Int64
    let eventWindow: Int

    var watchers: [Int: Watcher] = [:]
    var nextWatcherID = 0
    var shuttingDown = false

    var requiredToken: String?
    /// Injected failures (test hook, `KubeTestServer+Faults.swift`).
    var faults: [KubeFault] = []
    var requests: [RecordedRequest] = []
    static let maxRecordedRequests = 10_000

    let gc: AsyncStream<GCWork>.Continuation
    var gcPending = 0
    /// Owners in foreground deletion waiting for blocking dependents to go.
    var foregroundOwners: Set<String> = []

    init(initialRevision: Int64, eventWindow: Int, gc: AsyncStream<GCWork>.Continuation) {
        self.revision = initialRevision
        self.compactedThrough = initialRevision
        self.eventWindow = max(1, eventWindow)
        self.gc = gc
        register(ResourceInfo.builtins)
    }

    // MARK: Registry

    func info(group: String, version: String, resource: String) -> ResourceInfo? {
        registry["\(group)/\(version)/\(resource)"]
    }

    mutating func register(_ infos: [ResourceInfo], preferredVersion: String? = nil) {
        for info in infos {
            registry[info.registryKey] = info
            if preferred[info.groupResource] == nil || info.version == preferredVersion {
                preferred[info.groupResource] = info
            }
        }
    }

    mutating func unregister(groupResource: String) {
        registry = registry.filter { $0.value.groupResource != groupResource }
        preferred[groupResource] = nil
    }

    // MARK: Rendering

    func render(_ stored: StoredObject, _ info: ResourceInfo) -> TestJSON {
        var json = stored.json
        json["apiVersion"] = .string(info.apiVersion)
        json["kind"] = .string(info.kind)
        if !stored.managed.isEmpty {
            json.setValue(.array(stored.managed.map(\.rendered)), at: "metadata", "managedFields")
        }
        return json
    }

    func render(location: ObjectLocation) -> TestJSON? {
        guard let stored = objects[location.groupResource]?[location.key],
              let info = preferred[location.groupResource]
        else { return nil }
        return render(stored, info)
    }

    // MARK: Revisions and events

    mutating func nextRevision() -> Int64 {
        revision += 1
        return revision
    }

    /// Appends to the retained history (dropping the oldest beyond the window) and delivers to matching watches.
    mutating func record(_ type: String, _ groupResource: String, _ object: StoredObject, previous: StoredObject?) {
        let event = LoggedEvent(revision: revision, groupResource: groupResource, type: type, object: object,
                                previous: previous)
        log.append(event)
        if log.count > eventWindow {
            let drop = log.count - eventWindow
            compactedThrough = log[drop - 1].revision
            log.removeFirst(drop)
        }
        for watcher in watchers.values where watcher.info.groupResource == groupResource {
            deliver(event, to: watcher)
        }
    }

    /// Label and field selectors apply to both states of a modification: an object that starts matching is ADDED
    /// to that watch, one that stops matching is DELETED, as the real watch cache does.
    func deliver(_ event: LoggedEvent, to watcher: Watcher) {
        let namespace = event.object.json.value(at: "metadata", "namespace")?.stringValue ?? ""
        if let wanted = watcher.namespace, wanted != namespace { return }
        let matchesNow = watcher.selects(event.object.json)
        let matchedBefore = event.previous.map { watcher.selects($0.json) } ?? false
        let type: String?
        switch event.type {
        case "ADDED": type = matchesNow ? "ADDED" : nil
        case "DELETED": type = matchesNow ? "DELETED" : nil
        default:
            switch (matchedBefore, matchesNow) {
            case (true, true): type = "MODIFIED"
            case (false, true): type = "ADDED"
            case (true, false): type = "DELETED"
            case (false, false): type = nil
            }
        }
        guard let type else { return }
        watcher.continuation.yield(.event(["type": .string(type), "object": render(event.object, watcher.info)]))
    }

    // MARK: Watches

    /// Registers a watch and queues what it must see first: synthetic ADDED events for a watch without a version,
    /// the retained history after the version otherwise, or 410 Gone when that history was compacted.
    mutating func openWatch(
        _ info: ResourceInfo, namespace: String?, labels: LabelSelectorExpression, fields: FieldSelectorExpression,
        resourceVersion: String?
    ) throws(APIError) -> (id: Int?, stream: AsyncStream<WatchItem>, continuation: AsyncStream<WatchItem>.Continuation) {
        var start: Int64?
        if let text = resourceVersion, !text.isEmpty, text != "0" {
            guard let value = Int64(text), value >= 0 else {
                throw .badRequest("invalid resource version \"\(text)\"")
            }
            start = value
        }
        let (stream, continuation) = AsyncStream<WatchItem>.makeStream(bufferingPolicy: .unbounded)
        let watcher = Watcher(info: info, namespace: namespace, labels: labels, fields: fields,
                              continuation: continuation)
        if shuttingDown {
            continuation.yield(.end)
            return (nil, stream, continuation)
        }
        if let start {
            if start < compactedThrough {
                let gone = APIError.expired("too old resource version: \(start) (\(compactedThrough))")
                continuation.yield(.event(["type": "ERROR", "object": gone.status]))
                continuation.yield(.end)
                return (nil, stream, continuation)
            }
            for event in log where event.revision > start && event.groupResource == info.groupResource {
                deliver(event, to: watcher)
            }
        } else {
            for (key, stored) in (objects[info.groupResource] ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let namespace, namespace != key.namespace { continue }
                guard watcher.selects(stored.json) else { continue }
                continuation.yield(.event(["type": "ADDED", "object": render(stored, info)]))
            }
        }
        let id = nextWatcherID
        nextWatcherID += 1
        watchers[id] = watcher
        return (id, stream, continuation)
    }

    /// A BOOKMARK carrying the current revision: everything up to it has been delivered to this watch.
    func bookmark(_ id: Int) {
        guard let watcher = watchers[id] else { return }
        let object: TestJSON = [
            "kind": .string(watcher.info.kind), "apiVersion": .string(watcher.info.apiVersion),
            "metadata": ["resourceVersion": .string(String(revision))],
        ]
        watcher.continuation.yield(.event(["type": "BOOKMARK", "object": object]))
    }

    mutating func closeWatches(groupResource: String? = nil) {
        for (id, watcher) in watchers where groupResource == nil || watcher.info.groupResource == groupResource {
            watcher.continuation.yield(.end)
            watchers[id] = nil
        }
    }

    // MARK: Reads

    func objectKey(_ info: ResourceInfo, _ namespace: String?, _ name: String) throws(APIError) -> ObjectKey {
        if info.namespaced {
            guard let namespace, !namespace.isEmpty else { throw .notFound(info.groupResource, name) }
            return ObjectKey(namespace: namespace, name: name)
        }
        return ObjectKey(namespace: "", name: name)
    }

    func get(_ info: ResourceInfo, namespace: String?, name: String) throws(APIError) -> TestJSON {
        let key = try objectKey(info, namespace, name)
        guard let stored = objects[info.groupResource]?[key] else { throw .notFound(info.groupResource, name) }
        return render(stored, info)
    }

    func list(
        _ info: ResourceInfo, namespace: String?, labels: LabelSelectorExpression, fields: FieldSelectorExpression,
        resourceVersion: String?, limit: Int?, continueToken: String?
    ) throws(APIError) -> TestJSON {
        if let text = resourceVersion, !text.isEmpty {
            guard let requested = Int64(text) else { throw .badRequest("invalid resource version \"\(text)\"") }
            if requested > revision { throw .tooLargeResourceVersion(requested, revision) }
        }
        var listRevision = revision
        var after: ObjectKey?
        if let continueToken, !continueToken.isEmpty {
            guard let token = ContinueToken(encoded: continueToken) else {
                throw .badRequest("invalid continue token")
            }
            if token.revision < compactedThrough {
                throw .expired("The provided continue parameter is too old to display a consistent list result. "
                    + "You can start a new list without the continue parameter.")
            }
            listRevision = token.revision
            after = token.after
        }
        var matching = (objects[info.groupResource] ?? [:]).filter { key, stored in
            if let namespace, namespace != key.namespace { return false }
            if let after, !(after < key) { return false }
            return labels.matches(stored.json) && fields.matches(stored.json)
        }.sorted { $0.key < $1.key }
        var metadata: TestJSON = ["resourceVersion": .string(String(listRevision))]
        if let limit, limit > 0, matching.count > limit {
            let remaining = matching.count - limit
            matching = Array(matching.prefix(limit))
            if let last = matching.last?.key {
                metadata["continue"] = .string(ContinueToken(revision: listRevision, after: last).encoded)
                metadata["remainingItemCount"] = .int(Int64(remaining))
            }
        }
        return [
            "apiVersion": .string(info.apiVersion), "kind": .string(info.listKind), "metadata": metadata,
            "items": .array(matching.map { render($0.value, info) }),
        ]
    }

    /// Objects whose ownerReferences name `uid`.
    func dependents(of uid: String) -> [ObjectLocation] {
        var result: [ObjectLocation] = []
        for (groupResource, objectsOfResource) in objects {
            for (key, stored) in objectsOfResource
            where Self.ownerReferences(stored.json).contains(where: { $0["uid"]?.stringValue == uid }) {
                result.append(ObjectLocation(groupResource: groupResource, key: key))
            }
        }
        return result.sorted { ($0.groupResource, $0.key) < ($1.groupResource, $1.key) }
    }

    // MARK: Metadata helpers

    static func ownerReferences(_ json: TestJSON) -> [TestJSON] {
        json.value(at: "metadata", "ownerReferences")?.arrayValue ?? []
    }

    static func finalizers(_ json: TestJSON) -> [String] {
        json.value(at: "metadata", "finalizers")?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    static func isDeleting(_ json: TestJSON) -> Bool {
        if let timestamp = json.value(at: "metadata", "deletionTimestamp"), timestamp != .null { return true }
        return false
    }
}

/// `continue` tokens: the list's revision and the last key returned, base64 JSON (opaque to clients).
struct ContinueToken {
    var revision: Int64
    var after: ObjectKey

    init(revision: Int64, after: ObjectKey) {
        self.revision = revision
        self.after = after
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded), let json = TestJSON.parse(json: data),
              let revision = json["rv"]?.intValue, let namespace = json["ns"]?.stringValue,
              let name = json["name"]?.stringValue
        else { return nil }
        self.init(revision: revision, after: ObjectKey(namespace: namespace, name: name))
    }

    var encoded: String {
        let json: TestJSON = ["rv": .int(revision), "ns": .string(after.namespace), "name": .string(after.name)]
        return json.jsonData().base64EncodedString()
    }
}
