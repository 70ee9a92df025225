import Foundation

/// How a committed write assigns field ownership.
enum Ownership {
    /// An ordinary write by this manager: it takes the fields it changed.
    case update(String)
    /// Server-side apply already computed the entries.
    case given([ManagedEntry])
}

extension State {
    /// Metadata only the server writes; client values are replaced by the stored ones.
    static let serverOwnedMetadata = [
        "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
        "resourceVersion", "name", "namespace",
    ]

    // MARK: Create

    mutating func create(
        _ info: ResourceInfo, namespace: String?, body: TestJSON, manager: String, now: String
    ) throws(APIError) -> TestJSON {
        try Validation.checkShape(body)
        try checkTypeMeta(body, info, required: false)
        let namespace = try resolveNamespace(info, pathNamespace: namespace, body: body)
        var object = body
        var name = body.value(at: "metadata", "name")?.stringValue ?? ""
        if name.isEmpty, let prefix = body.value(at: "metadata", "generateName")?.stringValue, !prefix.isEmpty {
            name = generatedName(prefix, info: info, namespace: namespace)
        }
        object.setValue(.string(name), at: "metadata", "name")
        if let version = body.value(at: "metadata", "resourceVersion")?.stringValue, !version.isEmpty {
            throw .badRequest("resourceVersion should not be set on objects to be created")
        }
        if info.statusSubresource { object["status"] = nil }
        let fields = FieldManagement(info: info, subresource: "", time: now)
        let managed = fields.recordUpdate([], old: nil, new: object, manager: manager)
        return try insertNew(info, ObjectKey(namespace: namespace, name: name), object, managed: managed, now: now)
    }

    /// Validates and stores a new object (from POST or from an apply that creates).
    mutating func insertNew(
        _ info: ResourceInfo, _ key: ObjectKey, _ body: TestJSON, managed: [ManagedEntry], now: String
    ) throws(APIError) -> TestJSON {
        var json = body
        json["apiVersion"] = nil
        json["kind"] = nil
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                      "managedFields", "selfLink", "resourceVersion"] {
            json.setValue(nil, at: "metadata", field)
        }
        json.setValue(.string(key.name), at: "metadata", "name")
        json.setValue(key.namespace.isEmpty ? nil : .string(key.namespace), at: "metadata", "namespace")
        let causes = Validation.problems(json, info: info)
        guard causes.isEmpty else { throw .invalid(info.groupResource, key.name, causes) }
        guard objects[info.groupResource]?[key] == nil else { throw .alreadyExists(info.groupResource, key.name) }
        var definitions: [ResourceInfo] = []
        if info.groupResource == ResourceInfo.crdGroupResource {
            definitions = try ResourceInfo.fromCRD(json)
            json["status"] = Self.establishedStatus(for: json, now: now)
        }
        let uid = UUID().uuidString.lowercased()
        json.setValue(.string(uid), at: "metadata", "uid")
        json.setValue(.string(now), at: "metadata", "creationTimestamp")
        json.setValue(.int(1), at: "metadata", "generation")
        json.setValue(.string(String(nextRevision())), at: "metadata", "resourceVersion")
        let stored = StoredObject(json: json, managed: managed)
        objects[info.groupResource, default: [:]][key] = stored
        uidIndex[uid] = ObjectLocation(groupResource: info.groupResource, key: key)
        record("ADDED", info.groupResource, stored, previous: nil)
        if !definitions.isEmpty { registerDefinitions(definitions, crd: json) }
        return render(stored, info)
    }

    // MARK: Update (PUT)

    mutating func update(
        _ info: ResourceInfo, namespace: String?, name: String, body: TestJSON, subresource: String?,
        manager: String, now: String
    ) throws(APIError) -> TestJSON {
        try Validation.checkShape(body)
        try checkTypeMeta(body, info, required: false)
        let key = try objectKey(info, namespace, name)
        _ = try resolveNamespace(info, pathNamespace: namespace, body: body)
        try checkName(body, name)
        guard let existing = objects[info.groupResource]?[key] else { throw .notFound(info.groupResource, name) }
        let version = body.value(at: "metadata", "resourceVersion")?.stringValue ?? ""
        if version.isEmpty, !info.builtin {
            // Custom resources do not allow unconditional updates.
            throw .invalid(info.groupResource, name,
                           [("metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")])
        }
        if !version.isEmpty, version != existing.resourceVersion {
            throw .conflict(info.groupResource, name, APIError.staleMessage)
        }
        if let uid = body.value(at: "metadata", "uid")?.stringValue, !uid.isEmpty, uid != existing.uid {
            throw .conflict(info.groupResource, name,
                            "Precondition failed: UID in precondition: \(uid), UID in object meta: \(existing.uid)")
        }
        return try commit(info, key, existing, candidate: body, subresource: subresource,
                          ownership: .update(manager), now: now)
    }

    // MARK: Patch

    /// Merge, JSON and apply patches. Returns the object and whether it was created (apply only).
    mutating func patch(
        _ info: ResourceInfo, namespace: String?, name: String, kind: PatchKind, body: [UInt8],
        subresource: String?, manager: String, force: Bool, now: String
    ) throws(APIError) -> (object: TestJSON, created: Bool) {
        let key = try objectKey(info, namespace, name)
        let existing = objects[info.groupResource]?[key]
        if kind == .apply {
            return try apply(info, key, existing, body: body, subresource: subresource, manager: manager,
                             force: force, now: now)
        }
        guard let existing else { throw .notFound(info.groupResource, name) }
        let current = render(existing, info)
        let candidate: TestJSON
        switch kind {
        case .merge:
            guard let patch = TestJSON.parse(json: body), patch.objectValue != nil else {
                throw .badRequest("the merge patch is not a JSON object")
            }
            candidate = Patches.mergePatch(current, patch)
        case .json:
            guard let patch = TestJSON.parse(json: body) else { throw .badRequest("the JSON patch is not JSON") }
            candidate = try Patches.jsonPatch(current, patch)
        case .apply:
            throw .internal("unreachable")
        }
        try Validation.checkShape(candidate)
        // A patch that sets resourceVersion makes the write conditional on it.
        let version = candidate.value(at: "metadata", "resourceVersion")?.stringValue ?? ""
        if !version.isEmpty, version != existing.resourceVersion {
            throw .conflict(info.groupResource, name, APIError.staleMessage)
        }
        try checkTypeMeta(candidate, info, required: false)
        return (try commit(info, key, existing, candidate: candidate, subresource: subresource,
                           ownership: .update(manager), now: now), false)
    }

    private mutating func apply(
        _ info: ResourceInfo, _ key: ObjectKey, _ existing: StoredObject?, body: [UInt8], subresource: String?,
        manager: String, force: Bool, now: String
    ) throws(APIError) -> (object: TestJSON, created: Bool) {
        guard let configuration = TestJSON.parse(jsonOrYAML: body) else {
            throw .badRequest("the apply configuration is neither JSON nor YAML")
        }
        try Validation.checkShape(configuration)
        try checkTypeMeta(configuration, info, required: true)
        try checkName(configuration, key.name)
        _ = try resolveNamespace(info, pathNamespace: key.namespace.isEmpty ? nil : key.namespace,
                                 body: configuration)
        let version = configuration.value(at: "metadata", "resourceVersion")?.stringValue ?? ""
        if !version.isEmpty, version != existing?.resourceVersion {
            throw .conflict(info.groupResource, key.name, APIError.staleMessage)
        }
        let fields = FieldManagement(info: info, subresource: subresource ?? "", time: now)
        guard let existing else {
            guard subresource == nil else { throw .notFound(info.groupResource, key.name) }
            var base: TestJSON = ["metadata": ["name": .string(key.name)]]
            if !key.namespace.isEmpty { base.setValue(.string(key.namespace), at: "metadata", "namespace") }
            let result = try fields.apply([], live: base, configuration: configuration, manager: manager,
                                          force: force, groupResource: info.groupResource, name: key.name)
            return (try insertNew(info, key, result.object, managed: result.entries, now: now), true)
        }
        let result = try fields.apply(existing.managed, live: existing.json, configuration: configuration,
                                      manager: manager, force: force, groupResource: info.groupResource,
                                      name: key.name)
        return (try commit(info, key, existing, candidate: result.object, subresource: subresource,
                           ownership: .given(result.entries), now: now), false)
    }

    // MARK: Commit

    /// The common end of every write to an existing object: keeps server-owned metadata, applies the status
    /// subresource split, forbids new finalizers during deletion, validates, bumps generation on spec changes,
    /// records ownership, skips no-ops, and removes the object when its last finalizer goes during deletion.
    mutating func commit(
        _ info: ResourceInfo, _ key: ObjectKey, _ existing: StoredObject, candidate: TestJSON, subresource: String?,
        ownership: Ownership, now: String
    ) throws(APIError) -> TestJSON {
        try Validation.checkShape(candidate)
        let old = existing.json
        var new = candidate
        new["apiVersion"] = nil
        new["kind"] = nil
        if new["metadata"]?.objectValue == nil { new["metadata"] = [:] }
        for field in Self.serverOwnedMetadata {
            new.setValue(old.value(at: "metadata", field), at: "metadata", field)
        }
        new.setValue(nil, at: "metadata", "managedFields")
        new.setValue(nil, at: "metadata", "selfLink")
        if subresource == "status" {
            var statusOnly = old
            statusOnly["status"] = new["status"]
            new = statusOnly
        } else if info.statusSubresource {
            new["status"] = old["status"]
        }
        if Self.isDeleting(old) {
            let before = Set(Self.finalizers(old))
            if Self.finalizers(new).contains(where: { !before.contains($0) }) {
                throw .invalid(info.groupResource, key.name, [(
                    "metadata.finalizers",
                    "Forbidden: no new finalizers can be added if the object is being deleted"
                )])
            }
        }
        let causes = Validation.problems(new, info: info)
        guard causes.isEmpty else { throw .invalid(info.groupResource, key.name, causes) }
        var definitions: [ResourceInfo] = []
        if info.groupResource == ResourceInfo.crdGroupResource, subresource == nil {
            definitions = try ResourceInfo.fromCRD(new)
        }
        if Self.specChanged(old, new, info) {
            new.setValue(.int((old.value(at: "metadata", "generation")?.intValue ?? 0) + 1), at: "metadata",
                         "generation")
        }
        let fields = FieldManagement(info: info, subresource: subresource ?? "", time: now)
        let entries: [ManagedEntry]
        switch ownership {
        case .update(let manager): entries = fields.recordUpdate(existing.managed, old: old, new: new, manager: manager)
        case .given(let given): entries = fields.pruned(given, against: new)
        }
        if new == old && Self.sameOwnership(entries, existing.managed) {
            return render(existing, info)
        }
        new.setValue(.string(String(nextRevision())), at: "metadata", "resourceVersion")
        let stored = StoredObject(json: new, managed: entries)
        if Self.isDeleting(new) && Self.finalizers(new).isEmpty {
            purge(info.groupResource, key, stored)
            return render(stored, info)
        }
        objects[info.groupResource, default: [:]][key] = stored
        record("MODIFIED", info.groupResource, stored, previous: existing)
        if !definitions.isEmpty { registerDefinitions(definitions, crd: new) }
        return render(stored, info)
    }

    /// A write outside the API (garbage collector, test hooks): no validation or ownership changes, but the same
    /// revision, generation, event and finalizer rules.
    @discardableResult
    mutating func internalUpdate<E: Error>(
        _ location: ObjectLocation, _ transform: (inout TestJSON) throws(E) -> Void
    ) throws(E) -> StoredObject? {
        guard let existing = objects[location.groupResource]?[location.key] else { return nil }
        var json = existing.json
        try transform(&json)
        for field in ["uid", "name", "namespace", "creationTimestamp"] {
            json.setValue(existing.json.value(at: "metadata", field), at: "metadata", field)
        }
        json["apiVersion"] = nil
        json["kind"] = nil
        json.setValue(nil, at: "metadata", "managedFields")
        if let info = preferred[location.groupResource], Self.specChanged(existing.json, json, info) {
            let generation = (existing.json.value(at: "metadata", "generation")?.intValue ?? 0) + 1
            json.setValue(.int(generation), at: "metadata", "generation")
        }
        json.setValue(existing.json.value(at: "metadata", "resourceVersion"), at: "metadata", "resourceVersion")
        guard json != existing.json else { return existing }
        json.setValue(.string(String(nextRevision())), at: "metadata", "resourceVersion")
        let managed = existing.managed.compactMap { entry -> ManagedEntry? in
            var entry = entry
            entry.fields = entry.fields.filter { FieldWalker.value(at: $0, in: json) != nil }
            return entry.fields.isEmpty ? nil : entry
        }
        let stored = StoredObject(json: json, managed: managed)
        if Self.isDeleting(json) && Self.finalizers(json).isEmpty {
            purge(location.groupResource, location.key, stored)
            return stored
        }
        objects[location.groupResource, default: [:]][location.key] = stored
        record("MODIFIED", location.groupResource, stored, previous: existing)
        return stored
    }

    // MARK: Delete

    mutating func delete(
        _ info: ResourceInfo, namespace: String?, name: String, options: DeleteOptions, now: String
    ) throws(APIError) -> TestJSON {
        let key = try objectKey(info, namespace, name)
        guard let existing = objects[info.groupResource]?[key] else { throw .notFound(info.groupResource, name) }
        if let version = options.preconditionResourceVersion, version != existing.resourceVersion {
            throw .conflict(info.groupResource, name, "Precondition failed: ResourceVersion in precondition: "
                + "\(version), ResourceVersion in object meta: \(existing.resourceVersion)")
        }
        if let uid = options.preconditionUID, uid != existing.uid {
            throw .conflict(info.groupResource, name,
                            "Precondition failed: UID in precondition: \(uid), UID in object meta: \(existing.uid)")
        }
        guard ["Background", "Foreground", "Orphan"].contains(options.propagation) else {
            throw .badRequest("Unsupported value: \"\(options.propagation)\": supported values: \"Orphan\", "
                + "\"Background\", \"Foreground\"")
        }
        return deleteObject(info, key, existing, propagation: options.propagation, now: now)
    }

    /// Deletes now when no finalizer remains; otherwise marks the object with `deletionTimestamp` and leaves it to
    /// its finalizers (and, in foreground deletion, to the garbage collector).
    @discardableResult
    mutating func deleteObject(
        _ info: ResourceInfo, _ key: ObjectKey, _ existing: StoredObject, propagation: String, now: String
    ) -> TestJSON {
        if propagation == "Orphan" { orphanDependents(of: existing.uid) }
        // Orphaning may have rewritten nothing here, but re-read in case this object owned itself.
        let current = objects[info.groupResource]?[key] ?? existing
        var json = current.json
        var finalizers = Self.finalizers(json)
        if propagation == "Foreground", !finalizers.contains("foregroundDeletion") {
            finalizers.append("foregroundDeletion")
            json.setValue(.array(finalizers.map(TestJSON.string)), at: "metadata", "finalizers")
        }
        guard finalizers.isEmpty else {
            if !Self.isDeleting(json) {
                json.setValue(.string(now), at: "metadata", "deletionTimestamp")
                json.setValue(.int(0), at: "metadata", "deletionGracePeriodSeconds")
                let generation = (json.value(at: "metadata", "generation")?.intValue ?? 0) + 1
                json.setValue(.int(generation), at: "metadata", "generation")
            }
            var stored = current
            if json != current.json {
                json.setValue(.string(String(nextRevision())), at: "metadata", "resourceVersion")
                stored = StoredObject(json: json, managed: current.managed)
                objects[info.groupResource, default: [:]][key] = stored
                record("MODIFIED", info.groupResource, stored, previous: current)
            }
            if propagation == "Foreground" { enqueueGC(.foreground(uid: stored.uid)) }
            return render(stored, info)
        }
        json.setValue(.string(String(nextRevision())), at: "metadata", "resourceVersion")
        let final = StoredObject(json: json, managed: current.managed)
        purge(info.groupResource, key, final)
        return render(final, info)
    }

    /// Removes an object for good (its DELETED event carries the final state) and hands its dependents to the
    /// garbage collector. The caller has already bumped the revision for this write.
    mutating func purge(_ groupResource: String, _ key: ObjectKey, _ final: StoredObject) {
        objects[groupResource]?[key] = nil
        uidIndex[final.uid] = nil
        record("DELETED", groupResource, final, previous: nil)
        foregroundOwners.remove(final.uid)
        enqueueGC(.ownerGone(uid: final.uid))
        for owner in foregroundOwners.sorted() { enqueueGC(.foreground(uid: owner)) }
        if groupResource == ResourceInfo.crdGroupResource {
            unregisterDefinition(final.json)
        }
    }

    mutating func orphanDependents(of uid: String) {
        for location in dependents(of: uid) {
            internalUpdate(location) { json in
                let remaining = Self.ownerReferences(json).filter { $0["uid"]?.stringValue != uid }
                json.setValue(remaining.isEmpty ? nil : .array(remaining), at: "metadata", "ownerReferences")
            }
        }
    }

    mutating func enqueueGC(_ work: GCWork) {
        gcPending += 1
        gc.yield(work)
    }

    // MARK: Custom resource definitions

    private mutating func registerDefinitions(_ definitions: [ResourceInfo], crd: TestJSON) {
        guard let groupResource = definitions.first?.groupResource else { return }
        let storage = crd.value(at: "spec", "versions")?.arrayValue?
            .first { $0["storage"]?.boolValue == true }?["name"]?.stringValue
        // An update may drop versions: re-register from scratch, keeping stored objects.
        registry = registry.filter { $0.value.groupResource != groupResource }
        preferred[groupResource] = nil
        register(definitions, preferredVersion: storage)
    }

    /// Deleting a CRD deletes its objects (the real server's cleanup finalizer, done at once) and ends its watches.
    private mutating func unregisterDefinition(_ crd: TestJSON) {
        guard let group = crd.value(at: "spec", "group")?.stringValue,
              let plural = crd.value(at: "spec", "names", "plural")?.stringValue
        else { return }
        let groupResource = "\(plural).\(group)"
        for (key, stored) in (objects[groupResource] ?? [:]).sorted(by: { $0.key < $1.key }) {
            var json = stored.json
            json.setValue(.string(String(nextRevision())), at: "metadata", "resourceVersion")
            purge(groupResource, key, StoredObject(json: json, managed: stored.managed))
        }
        objects[groupResource] = nil
        closeWatches(groupResource: groupResource)
        unregister(groupResource: groupResource)
    }

    static func establishedStatus(for crd: TestJSON, now: String) -> TestJSON {
        let storage = crd.value(at: "spec", "versions")?.arrayValue?
            .filter { $0["storage"]?.boolValue == true }.compactMap { $0["name"] } ?? []
        return [
            "acceptedNames": crd.value(at: "spec", "names") ?? [:],
            "storedVersions": .array(storage),
            "conditions": [
                ["type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": .string(now)],
                ["type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": .string(now)],
            ],
        ]
    }

    // MARK: Checks

    func checkTypeMeta(_ body: TestJSON, _ info: ResourceInfo, required: Bool) throws(APIError) {
        let apiVersion = body["apiVersion"]?.stringValue ?? ""
        let kind = body["kind"]?.stringValue ?? ""
        if required && (apiVersion.isEmpty || kind.isEmpty) {
            throw .badRequest("apiVersion and kind must be set in an apply configuration")
        }
        if !kind.isEmpty, kind != info.kind {
            throw .badRequest("the kind of the object (\(kind)) does not match the resource (\(info.kind))")
        }
        if !apiVersion.isEmpty, apiVersion != info.apiVersion {
            throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version "
                + "(\(info.apiVersion))")
        }
    }

    func checkName(_ body: TestJSON, _ name: String) throws(APIError) {
        let bodyName = body.value(at: "metadata", "name")?.stringValue ?? ""
        if !bodyName.isEmpty, bodyName != name {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
    }

    /// The namespace a write lands in: the path's; a different one in the body is a 400; cluster-scoped → "".
    func resolveNamespace(_ info: ResourceInfo, pathNamespace: String?, body: TestJSON) throws(APIError) -> String {
        guard info.namespaced else { return "" }
        guard let pathNamespace, !pathNamespace.isEmpty else {
            throw .badRequest("a namespace is required for \(info.groupResource)")
        }
        let bodyNamespace = body.value(at: "metadata", "namespace")?.stringValue ?? ""
        if !bodyNamespace.isEmpty, bodyNamespace != pathNamespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        return pathNamespace
    }

    private func generatedName(_ prefix: String, info: ResourceInfo, namespace: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var generator = SystemRandomNumberGenerator()
        while true {
            let suffix = String((0..<5).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
            let name = String(prefix.prefix(58)) + suffix
            if objects[info.groupResource]?[ObjectKey(namespace: namespace, name: name)] == nil { return name }
        }
    }

    /// Generation counts changes outside metadata (and outside status when it is a subresource).
    static func specChanged(_ old: TestJSON, _ new: TestJSON, _ info: ResourceInfo) -> Bool {
        var before = old
        var after = new
        for field in ["metadata", "apiVersion", "kind"] {
            before[field] = nil
            after[field] = nil
        }
        if info.statusSubresource {
            before["status"] = nil
            after["status"] = nil
        }
        return before != after
    }

    static func sameOwnership(_ lhs: [ManagedEntry], _ rhs: [ManagedEntry]) -> Bool {
        lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { $0.sameIdentity($1) && $0.fields == $1.fields }
    }
}
