/// One `metadata.managedFields` entry: who owns which leaf fields, through which operation and endpoint.
struct ManagedEntry: Sendable, Hashable {
    var manager: String
    /// `Apply` or `Update`.
    var operation: String
    /// `""` for the main resource, `status` for the status subresource.
    var subresource: String
    var apiVersion: String
    var time: String
    var fields: Set<FieldPath>

    func sameIdentity(_ other: ManagedEntry) -> Bool {
        manager == other.manager && operation == other.operation && subresource == other.subresource
    }

    var rendered: TestJSON {
        var entry: TestJSON = [
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
            "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": FieldWalker.fieldsV1(fields),
        ]
        if !subresource.isEmpty { entry["subresource"] = .string(subresource) }
        return entry
    }
}

/// Field ownership for one write: the server-side apply merge and conflict rules, and ownership transfer on
/// ordinary updates.
///
/// Simplifications against the real structured-merge-diff: ownership is tracked per leaf (scalar, atomic list, empty
/// object, set element, map-list element and its fields); list types come from a table for built-in kinds and from
/// `x-kubernetes-list-type` for custom resources; no defaulting, so a field the server would default is never owned.
struct FieldManagement {
    let info: ResourceInfo
    /// `""` or `status`.
    let subresource: String
    let time: String

    var walker: FieldWalker { FieldWalker(info: info) }

    /// Metadata the server owns; never tracked.
    static let untrackedMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
        "deletionGracePeriodSeconds", "managedFields", "selfLink", "generateName",
    ]

    /// Whether a write through this endpoint can own `path`.
    func tracked(_ path: FieldPath) -> Bool {
        guard case .field(let top)? = path.first else { return false }
        if subresource == "status" { return top == "status" }
        switch top {
        case "apiVersion", "kind": return false
        case "status": return !info.statusSubresource
        case "metadata":
            guard path.count >= 2, case .field(let member) = path[1] else { return false }
            return !Self.untrackedMetadata.contains(member)
        default: return true
        }
    }

    func fieldSet(of object: TestJSON) -> Set<FieldPath> {
        walker.leaves(of: object).filter(tracked)
    }

    /// Drops paths that no longer exist, and entries left empty.
    func pruned(_ entries: [ManagedEntry], against object: TestJSON) -> [ManagedEntry] {
        entries.compactMap { entry in
            var entry = entry
            entry.fields = entry.fields.filter { FieldWalker.value(at: $0, in: object) != nil }
            return entry.fields.isEmpty ? nil : entry
        }
    }

    // MARK: Update (create, PUT, merge and JSON patch)

    /// `manager` takes every field it set or changed (an update never conflicts); removed fields lose all owners.
    func recordUpdate(_ entries: [ManagedEntry], old: TestJSON?, new: TestJSON, manager: String) -> [ManagedEntry] {
        let before = old.map(fieldSet) ?? []
        let after = fieldSet(of: new)
        let changed = after.filter { path in
            if path.isElementMarker { return !before.contains(path) }
            return FieldWalker.value(at: path, in: old) != FieldWalker.value(at: path, in: new)
        }
        var result = entries.map { entry -> ManagedEntry in
            var entry = entry
            entry.fields.subtract(changed)
            return entry
        }
        if !changed.isEmpty {
            let mine = ManagedEntry(manager: manager, operation: "Update", subresource: subresource,
                                    apiVersion: info.apiVersion, time: time, fields: [])
            if let index = result.firstIndex(where: { $0.sameIdentity(mine) }) {
                result[index].fields.formUnion(changed)
                result[index].time = time
            } else {
                var entry = mine
                entry.fields = changed
                result.append(entry)
            }
        }
        return pruned(result, against: new)
    }

    // MARK: Apply

    /// Merges an apply configuration into the live object and returns the result with the new ownership.
    /// Throws 409 listing every conflict when `force` is false and another manager owns a field the configuration
    /// sets to a different value.
    func apply(
        _ entries: [ManagedEntry], live: TestJSON, configuration: TestJSON, manager: String, force: Bool,
        groupResource: String, name: String
    ) throws(APIError) -> (object: TestJSON, entries: [ManagedEntry]) {
        let applied = scoped(Self.withoutNulls(configuration))
        let mine = ManagedEntry(manager: manager, operation: "Apply", subresource: subresource,
                                apiVersion: info.apiVersion, time: time, fields: fieldSet(of: applied))
        let previous = entries.first { $0.sameIdentity(mine) }
        var others = entries.filter { !$0.sameIdentity(mine) }

        // Conflicts: a differing value in a field someone else owns.
        var conflicts: [(entry: Int, path: FieldPath)] = []
        for path in mine.fields where !path.isElementMarker {
            guard let current = FieldWalker.value(at: path, in: live),
                  current != FieldWalker.value(at: path, in: applied)
            else { continue }
            for (index, entry) in others.enumerated() where entry.fields.contains(path) {
                conflicts.append((index, path))
            }
        }
        if !conflicts.isEmpty {
            guard force else { throw conflictError(conflicts, others, groupResource: groupResource, name: name) }
            for conflict in conflicts { others[conflict.entry].fields.remove(conflict.path) }
        }

        var object = merge(live, applied, schemaPath: [])
        // Fields this manager applied before and omits now go away unless someone else still owns them (or
        // something below them).
        let dropped = (previous?.fields ?? []).subtracting(mine.fields)
        var removedParents: [FieldPath] = []
        for path in dropped.sorted(by: { $0.count > $1.count }) {
            let stillOwned = others.contains { entry in entry.fields.contains { $0.hasPrefix(path) } }
            guard !stillOwned else { continue }
            object = FieldWalker.removing(path[...], from: object) ?? object
            removedParents.append(Array(path.dropLast()))
        }
        object = pruneEmptyParents(object, removedParents, owners: others + [mine])

        var result = others
        var own = mine
        if let previous, previous.fields == mine.fields { own.time = previous.time }
        if let index = entries.firstIndex(where: { $0.sameIdentity(mine) }) {
            result.insert(own, at: Swift.min(index, result.count))
        } else {
            result.append(own)
        }
        return (object, pruned(result, against: object))
    }

    /// The part of a configuration this endpoint writes: only `status` through `/status`; never `status` through the
    /// main resource when the status subresource is on.
    private func scoped(_ configuration: TestJSON) -> TestJSON {
        var applied = configuration
        if subresource == "status" {
            var onlyStatus: TestJSON = [:]
            onlyStatus["status"] = configuration["status"]
            for member in ["apiVersion", "kind", "metadata"] { onlyStatus[member] = configuration[member] }
            return onlyStatus
        }
        if info.statusSubresource { applied["status"] = nil }
        return applied
    }

    /// Apply configurations use `null` for "not set".
    static func withoutNulls(_ value: TestJSON) -> TestJSON {
        switch value {
        case .object(let members):
            return .object(members.filter { $0.value != .null }.mapValues(withoutNulls))
        case .array(let elements):
            return .array(elements.map(withoutNulls))
        default:
            return value
        }
    }

    /// Deep merge honouring list types: map-lists merge per key, sets union, atomic lists and scalars replace.
    func merge(_ live: TestJSON?, _ applied: TestJSON, schemaPath: [String]) -> TestJSON {
        switch applied {
        case .object(let appliedMembers):
            guard case .object(var members)? = live else { return applied }
            for (name, value) in appliedMembers {
                members[name] = merge(members[name], value, schemaPath: schemaPath + [name])
            }
            return .object(members)
        case .array(let appliedElements):
            guard case .array(var elements)? = live else { return applied }
            switch walker.effectiveListKind(appliedElements, schemaPath: schemaPath) {
            case .atomic:
                return applied
            case .set:
                for element in appliedElements where !elements.contains(element) { elements.append(element) }
                return .array(elements)
            case .map(let keys):
                guard walker.effectiveListKind(elements, schemaPath: schemaPath) != .atomic else { return applied }
                for element in appliedElements {
                    let key = FieldWalker.keyObject(element, keys)
                    if let index = elements.firstIndex(where: { FieldWalker.matches($0, key: key) }) {
                        elements[index] = merge(elements[index], element, schemaPath: schemaPath + ["[]"])
                    } else {
                        elements.append(element)
                    }
                }
                return .array(elements)
            }
        default:
            return applied
        }
    }

    /// Removes objects and lists left empty by a removal, up to (not including) top-level fields, unless a manager
    /// owns the empty container itself.
    private func pruneEmptyParents(_ object: TestJSON, _ parents: [FieldPath], owners: [ManagedEntry]) -> TestJSON {
        var object = object
        for parent in parents {
            var path = parent
            while path.count >= 2 {
                guard let value = FieldWalker.value(at: path, in: object) else { break }
                let empty = value.objectValue?.isEmpty ?? value.arrayValue?.isEmpty ?? false
                guard empty, !owners.contains(where: { $0.fields.contains(path) }) else { break }
                object = FieldWalker.removing(path[...], from: object) ?? object
                path.removeLast()
            }
        }
        return object
    }

    private func conflictError(
        _ conflicts: [(entry: Int, path: FieldPath)], _ others: [ManagedEntry], groupResource: String, name: String
    ) -> APIError {
        let sorted = conflicts.sorted { ($0.entry, $0.path.rendered) < ($1.entry, $1.path.rendered) }
        let causes: [TestJSON] = sorted.map { conflict in
            let entry = others[conflict.entry]
            return [
                "reason": "FieldManagerConflict",
                "message": .string("conflict with \"\(entry.manager)\" using \(entry.apiVersion)"),
                "field": .string(conflict.path.rendered),
            ]
        }
        let lines = sorted.map { conflict in
            "conflict with \"\(others[conflict.entry].manager)\" using \(others[conflict.entry].apiVersion): "
                + conflict.path.rendered
        }
        let count = sorted.count
        let message = "Apply failed with \(count) conflict\(count == 1 ? "" : "s"): " + lines.joined(separator: "\n")
        return APIError(code: 409, reason: "Conflict", message: message,
                        details: ["name": .string(name), "group": .string(APIError.splitGroupResource(groupResource).1),
                                  "causes": .array(causes)])
    }
}
