import Foundation

/// How `delete` treats the object's dependents (objects whose ownerReferences point at it).
public enum DeletePropagation: String, Sendable {
    /// Delete the object now; the garbage collector deletes dependents afterwards.
    case background = "Background"
    /// Keep the object (with `deletionTimestamp`) until every blocking dependent is gone.
    case foreground = "Foreground"
    /// Delete the object and leave dependents, stripped of the owner reference.
    case orphan = "Orphan"
}

extension KubeClient {
    // MARK: Read

    public func get(_ resource: KubeResource, namespace: String?, name: String) async throws -> KubeObject {
        try KubeObject(json: await call(.get, resource.path(namespace: namespace, name: name)))
    }

    /// `get`, with 404 as `nil`.
    public func getIfPresent(_ resource: KubeResource, namespace: String?, name: String) async throws -> KubeObject? {
        do {
            return try await get(resource, namespace: namespace, name: name)
        } catch let error as KubeError where error.isNotFound {
            return nil
        }
    }

    /// Lists a collection; `namespace: nil` lists a cluster-scoped resource or all namespaces.
    /// `resourceVersion` follows the API's rules (`nil`: most recent; `"0"`: any cached state).
    public func list(
        _ resource: KubeResource, namespace: String?, labelSelector: LabelSelector? = nil,
        fieldSelector: String? = nil, resourceVersion: String? = nil, limit: Int? = nil, continueToken: String? = nil
    ) async throws -> KubeList {
        var query: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector.description)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        let json = try await call(.get, resource.path(namespace: namespace), query: query)
        let items = try (json["items"]?.arrayValue ?? []).map { item -> KubeObject in
            var object = try KubeObject(json: item)
            // Items of built-in lists omit apiVersion/kind; fill them so every object is self-describing.
            if object.apiVersion == nil { object.apiVersion = resource.apiVersion }
            if object.kind == nil { object.kind = resource.kind }
            return object
        }
        let continueValue = json.value(at: "metadata", "continue")?.stringValue
        return KubeList(
            items: items,
            resourceVersion: json.value(at: "metadata", "resourceVersion")?.stringValue ?? "",
            continueToken: continueValue.flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    /// Every page of a list (`limit` items per request).
    public func listAll(
        _ resource: KubeResource, namespace: String?, labelSelector: LabelSelector? = nil, pageSize: Int = 500
    ) async throws -> KubeList {
        var page = try await list(resource, namespace: namespace, labelSelector: labelSelector, limit: pageSize)
        var items = page.items
        while let token = page.continueToken {
            page = try await list(resource, namespace: namespace, labelSelector: labelSelector, limit: pageSize,
                                  continueToken: token)
            items += page.items
        }
        return KubeList(items: items, resourceVersion: page.resourceVersion)
    }

    // MARK: Write

    /// Creates the object in its own namespace (or the client's default). 409 `AlreadyExists` when it exists.
    @discardableResult
    public func create(_ resource: KubeResource, _ object: KubeObject) async throws -> KubeObject {
        let prepared = prepare(object, for: resource)
        return try KubeObject(json: await call(
            .post, resource.path(namespace: targetNamespace(prepared, resource)),
            query: [("fieldManager", fieldManager)], body: prepared.json.jsonData()))
    }

    /// Replaces the object (`PUT`). With `metadata.resourceVersion` set, a concurrent write since makes this fail with
    /// `KubeError.conflict`; without it the update is unconditional.
    @discardableResult
    public func replace(_ resource: KubeResource, _ object: KubeObject, subresource: String? = nil) async throws
        -> KubeObject
    {
        let prepared = prepare(object, for: resource)
        let path = resource.path(namespace: targetNamespace(prepared, resource), name: prepared.name,
                                 subresource: subresource)
        return try KubeObject(json: await call(.put, path, query: [("fieldManager", fieldManager)],
                                               body: prepared.json.jsonData()))
    }

    /// Deletes an object. Returns the object when the server still holds it (finalizers pending), else `nil`.
    @discardableResult
    public func delete(
        _ resource: KubeResource, namespace: String?, name: String, propagationPolicy: DeletePropagation? = nil,
        preconditionResourceVersion: String? = nil, preconditionUID: String? = nil
    ) async throws -> KubeObject? {
        var options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions"]
        if let propagationPolicy { options["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        var preconditions: JSONValue = [:]
        if let preconditionResourceVersion { preconditions["resourceVersion"] = .string(preconditionResourceVersion) }
        if let preconditionUID { preconditions["uid"] = .string(preconditionUID) }
        if preconditions != [:] { options["preconditions"] = preconditions }
        let json = try await call(.delete, resource.path(namespace: namespace, name: name), body: options.jsonData())
        guard json["kind"]?.stringValue != "Status", let object = try? KubeObject(json: json),
              object.isBeingDeleted
        else { return nil }
        return object
    }

    /// Deletes every object of a collection matching `labelSelector`.
    public func deleteCollection(
        _ resource: KubeResource, namespace: String?, labelSelector: LabelSelector,
        propagationPolicy: DeletePropagation? = nil
    ) async throws {
        var query = [("labelSelector", labelSelector.description)]
        if let propagationPolicy { query.append(("propagationPolicy", propagationPolicy.rawValue)) }
        _ = try await call(.delete, resource.path(namespace: namespace), query: query)
    }

    // MARK: Patch

    /// Server-side apply: `PATCH` with `application/apply-patch+yaml` (JSON is valid YAML) and
    /// `?fieldManager=<m>&force=<force>`. The object states every field this manager wants to own; fields it owned
    /// before and now omits are removed. 409 with the conflicting fields when `force` is false and another manager
    /// owns a field with a different value. Creates the object when absent.
    @discardableResult
    public func apply(
        _ resource: KubeResource, _ object: KubeObject, fieldManager manager: String? = nil, force: Bool = true,
        subresource: String? = nil
    ) async throws -> KubeObject {
        var prepared = prepare(object, for: resource)
        prepared.setValue(nil, at: "metadata", "managedFields")
        let path = resource.path(namespace: targetNamespace(prepared, resource), name: prepared.name,
                                 subresource: subresource)
        let query = [("fieldManager", manager ?? fieldManager), ("force", force ? "true" : "false")]
        return try KubeObject(json: await call(.patch, path, query: query, body: prepared.json.jsonData(),
                                               contentType: "application/apply-patch+yaml"))
    }

    /// RFC 7386 merge patch (`application/merge-patch+json`): objects merge, `null` deletes, arrays replace.
    /// A `metadata.resourceVersion` in the patch makes it conditional (409 when stale).
    @discardableResult
    public func mergePatch(
        _ resource: KubeResource, namespace: String?, name: String, _ patch: JSONValue, subresource: String? = nil
    ) async throws -> KubeObject {
        try KubeObject(json: await call(
            .patch, resource.path(namespace: namespace, name: name, subresource: subresource),
            query: [("fieldManager", fieldManager)], body: patch.jsonData(),
            contentType: "application/merge-patch+json"))
    }

    /// RFC 6902 JSON patch (`application/json-patch+json`). A failing `test` operation fails the patch with 422.
    @discardableResult
    public func jsonPatch(
        _ resource: KubeResource, namespace: String?, name: String, _ operations: [JSONPatchOperation],
        subresource: String? = nil
    ) async throws -> KubeObject {
        try KubeObject(json: await call(
            .patch, resource.path(namespace: namespace, name: name, subresource: subresource),
            query: [("fieldManager", fieldManager)], body: JSONValue.array(operations.map(\.json)).jsonData(),
            contentType: "application/json-patch+json"))
    }

    /// Merge-patches the status subresource (spec §9.2: `PATCH …/status`, `application/merge-patch+json`).
    @discardableResult
    public func patchStatus(_ resource: KubeResource, namespace: String?, name: String, _ status: JSONValue)
        async throws -> KubeObject
    {
        try await mergePatch(resource, namespace: namespace, name: name, ["status": status], subresource: "status")
    }

    // MARK: Finalizers

    /// Adds `finalizer` unless present, guarded by the object's resourceVersion (409 when it changed meanwhile).
    @discardableResult
    public func addFinalizer(_ finalizer: String, to object: KubeObject, resource: KubeResource) async throws
        -> KubeObject
    {
        guard !object.finalizers.contains(finalizer) else { return object }
        let rv = object.resourceVersion ?? ""
        var operations: [JSONPatchOperation] = [.replace(path: "/metadata/resourceVersion", value: .string(rv))]
        if object.metadata["finalizers"] == nil {
            operations.append(.add(path: "/metadata/finalizers", value: [.string(finalizer)]))
        } else {
            operations.append(.add(path: "/metadata/finalizers/-", value: .string(finalizer)))
        }
        return try await jsonPatch(resource, namespace: object.namespace, name: object.name, operations)
    }

    /// Removes `finalizer` with a JSON patch guarded by the object's resourceVersion (spec §9.6): 409 when the object
    /// changed since it was read. Returns the object unchanged when the finalizer is not there.
    @discardableResult
    public func removeFinalizer(_ finalizer: String, from object: KubeObject, resource: KubeResource) async throws
        -> KubeObject
    {
        guard let index = object.finalizers.firstIndex(of: finalizer) else { return object }
        let rv = object.resourceVersion ?? ""
        return try await jsonPatch(resource, namespace: object.namespace, name: object.name, [
            .replace(path: "/metadata/resourceVersion", value: .string(rv)),
            .test(path: "/metadata/finalizers/\(index)", value: .string(finalizer)),
            .remove(path: "/metadata/finalizers/\(index)"),
        ])
    }

    // MARK: Discovery

    /// The resources the server serves for a group version (`v1`, `apps/v1`, `serving.knative.dev/v1`);
    /// `KubeError.notFound` when the group version is not served (e.g. Knative absent).
    public func serverResources(groupVersion: String) async throws -> [String] {
        let path = groupVersion.contains("/") ? "/apis/\(groupVersion)" : "/api/\(groupVersion)"
        let json = try await call(.get, path)
        return (json["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    // MARK: Helpers

    /// Fills apiVersion/kind from the resource when the caller left them out.
    func prepare(_ object: KubeObject, for resource: KubeResource) -> KubeObject {
        var object = object
        if object.apiVersion == nil { object.apiVersion = resource.apiVersion }
        if object.kind == nil { object.kind = resource.kind }
        return object
    }

    func targetNamespace(_ object: KubeObject, _ resource: KubeResource) -> String? {
        resource.namespaced ? (object.namespace ?? configuration.namespace) : nil
    }
}
