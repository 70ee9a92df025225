import Foundation
import Hummingbird
import Logging
import NIOCore

/// Maps REST requests onto the store, with the real API server's paths, verbs, media types and status codes.
struct KubeResponder: HTTPResponder {
    typealias Context = KubeRequestContext

    let store: Store
    let configuration: KubeTestServer.Configuration

    func respond(to request: Request, context: KubeRequestContext) async throws -> Response {
        do {
            return try await handle(request, context)
        } catch let error as APIError {
            return Self.json(error.status, code: error.code)
        } catch {
            // Nothing a client sends may take the server down: every other failure is a 500 Status.
            configuration.logger.error("unexpected failure", metadata: ["error": "\(error)"])
            let failure = APIError.internal("\(error)")
            return Self.json(failure.status, code: failure.code)
        }
    }

    // MARK: Routing

    private func handle(_ request: Request, _ context: KubeRequestContext) async throws -> Response {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let method = request.method.rawValue
        let contentType = request.headers[.contentType]
        store.withState { state in
            state.requests.append(RecordedRequest(method: method, path: request.uri.path, query: query,
                                                  contentType: contentType))
            if state.requests.count > State.maxRecordedRequests { state.requests.removeFirst() }
        }
        if let fault = store.withState({ $0.takeFault(method: method, path: request.uri.path, query: query) }) {
            throw fault
        }
        let segments = request.uri.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }

        if segments.count == 1, ["healthz", "livez", "readyz"].contains(segments[0]) {
            return Response(status: .ok, headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        if segments == ["version"] {
            return Self.json(["major": "1", "minor": "32", "gitVersion": "v1.32.0-kubetestserver",
                              "platform": "linux/amd64"], code: 200)
        }
        if let token = store.withState({ $0.requiredToken }) {
            guard request.headers[.authorization] == "Bearer \(token)" else { throw APIError.unauthorized() }
        }

        let group: String
        let version: String
        let rest: [String]
        switch segments.first {
        case "api":
            if segments.count == 1 { return Self.json(["kind": "APIVersions", "versions": ["v1"]], code: 200) }
            (group, version, rest) = ("", segments[1], Array(segments.dropFirst(2)))
        case "apis":
            if segments.count == 1 { return Self.json(groupList(), code: 200) }
            guard segments.count >= 3 else { throw APIError.noSuchPath() }
            (group, version, rest) = (segments[1], segments[2], Array(segments.dropFirst(3)))
        default:
            throw APIError.noSuchPath()
        }
        if rest.isEmpty {
            guard method == "GET" else { throw APIError.methodNotAllowed(method) }
            return Self.json(try resourceList(group: group, version: version), code: 200)
        }
        let target = try Target(group: group, rest: rest)
        guard let info = store.withState({ $0.info(group: group, version: version, resource: target.resource) }) else {
            throw APIError.noSuchPath()
        }
        if info.namespaced {
            if target.namespace == nil, target.name != nil { throw APIError.noSuchPath() }
        } else if target.namespace != nil {
            throw APIError.noSuchPath()
        }
        if let subresource = target.subresource, !(subresource == "status" && info.statusSubresource) {
            throw APIError.noSuchPath()
        }
        return try await dispatch(request, context, method: method, query: query, info: info, target: target)
    }

    private func dispatch(
        _ request: Request, _ context: KubeRequestContext, method: String, query: [String: String],
        info: ResourceInfo, target: Target
    ) async throws -> Response {
        let namespace = target.namespace
        let now = ServerClock.now()
        switch (method, target.name) {
        case ("GET", nil):
            let labels = try LabelSelectorExpression.parse(query["labelSelector"] ?? "")
            let fields = try FieldSelectorExpression.parse(query["fieldSelector"] ?? "")
            if query["watch"] == "1" || query["watch"] == "true" {
                return try watch(info: info, namespace: namespace, labels: labels, fields: fields, query: query,
                                 context: context)
            }
            let limit = query["limit"].flatMap(Int.init)
            let list = try store.withState { state throws(APIError) in
                try state.list(info, namespace: namespace, labels: labels, fields: fields,
                               resourceVersion: query["resourceVersion"], limit: limit,
                               continueToken: query["continue"])
            }
            return Self.json(list, code: 200)
        case ("GET", let name?):
            let object = try store.withState { state throws(APIError) in
                try state.get(info, namespace: namespace, name: name)
            }
            return Self.json(object, code: 200)
        case ("POST", nil):
            let body = try parseObject(try await readBody(request), contentType: request.headers[.contentType])
            let manager = try fieldManager(query, request)
            let object = try store.withState { state throws(APIError) in
                try state.create(info, namespace: namespace, body: body, manager: manager, now: now)
            }
            return Self.json(object, code: 201)
        case ("PUT", let name?):
            let body = try parseObject(try await readBody(request), contentType: request.headers[.contentType])
            let manager = try fieldManager(query, request)
            let object = try store.withState { state throws(APIError) in
                try state.update(info, namespace: namespace, name: name, body: body, subresource: target.subresource,
                                 manager: manager, now: now)
            }
            return Self.json(object, code: 200)
        case ("PATCH", let name?):
            let kind = try patchKind(request.headers[.contentType], info: info)
            let force = query["force"] == "true" || query["force"] == "1"
            if force, kind != .apply {
                throw APIError.unprocessable("force: Forbidden: may not be specified for non-apply patch")
            }
            if kind == .apply, (query["fieldManager"] ?? "").isEmpty {
                throw APIError.badRequest("PATCH with the apply content type requires the fieldManager parameter")
            }
            let manager = try fieldManager(query, request)
            let body = try await readBody(request)
            let result = try store.withState { state throws(APIError) in
                try state.patch(info, namespace: namespace, name: name, kind: kind, body: body,
                                subresource: target.subresource, manager: manager, force: force, now: now)
            }
            return Self.json(result.object, code: result.created ? 201 : 200)
        case ("DELETE", let name?):
            guard target.subresource == nil else { throw APIError.methodNotAllowed(method) }
            let options = try deleteOptions(query, body: try await readBody(request))
            let object = try store.withState { state throws(APIError) in
                try state.delete(info, namespace: namespace, name: name, options: options, now: now)
            }
            return Self.json(object, code: 200)
        case ("DELETE", nil):
            let labels = try LabelSelectorExpression.parse(query["labelSelector"] ?? "")
            let fields = try FieldSelectorExpression.parse(query["fieldSelector"] ?? "")
            let options = try deleteOptions(query, body: try await readBody(request))
            let deleted = try store.withState { state throws(APIError) -> TestJSON in
                let list = try state.list(info, namespace: namespace, labels: labels, fields: fields,
                                          resourceVersion: nil, limit: nil, continueToken: nil)
                var deleted: [TestJSON] = []
                for item in list["items"]?.arrayValue ?? [] {
                    guard let name = item.value(at: "metadata", "name")?.stringValue else { continue }
                    let itemNamespace = item.value(at: "metadata", "namespace")?.stringValue
                    if let object = try? state.delete(info, namespace: itemNamespace, name: name, options: options,
                                                      now: now) {
                        deleted.append(object)
                    }
                }
                return ["apiVersion": .string(info.apiVersion), "kind": .string(info.listKind),
                        "metadata": ["resourceVersion": .string(String(state.revision))], "items": .array(deleted)]
            }
            return Self.json(deleted, code: 200)
        default:
            throw APIError.methodNotAllowed(method)
        }
    }

    /// `[namespaces/{ns}/]{resource}[/{name}[/{subresource}]]`
    struct Target {
        var namespace: String?
        var resource: String
        var name: String?
        var subresource: String?

        init(group: String, rest: [String]) throws(APIError) {
            var rest = rest
            // `namespaces/{name}/status` is the Namespace's own subresource, not a resource named "status".
            let namespaceSubresource = group.isEmpty && rest.count == 3 && ["status", "finalize"].contains(rest[2])
            if rest.first == "namespaces", rest.count >= 3, !namespaceSubresource {
                namespace = rest[1]
                rest.removeFirst(2)
            }
            guard (1...3).contains(rest.count), rest.allSatisfy({ !$0.isEmpty }) else { throw .noSuchPath() }
            resource = rest[0]
            name = rest.count > 1 ? rest[1] : nil
            subresource = rest.count > 2 ? rest[2] : nil
        }
    }

    // MARK: Request parts

    private func readBody(_ request: Request) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: configuration.maxRequestBytes)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError.tooLarge(configuration.maxRequestBytes)
        }
    }

    /// JSON, or YAML when the request says so (`application/yaml`); other media types (protobuf, CBOR) get 415.
    private func parseObject(_ bytes: [UInt8], contentType: String?) throws(APIError) -> TestJSON {
        let type = (contentType ?? "").lowercased()
        let yaml = type.contains("yaml")
        if !type.isEmpty, !yaml, !type.contains("json") { throw .unsupportedMediaType(type, accepted: APIError.objectMediaTypes) }
        let parsed = yaml ? TestJSON.parse(jsonOrYAML: bytes) : TestJSON.parse(json: bytes)
        guard let object = parsed, object.objectValue != nil else {
            throw .badRequest("the request body is not a JSON\(yaml ? " or YAML" : "") object")
        }
        return object
    }

    /// `fieldManager`, else the User-Agent's product name (as the real server derives it).
    private func fieldManager(_ query: [String: String], _ request: Request) throws(APIError) -> String {
        if let manager = query["fieldManager"], !manager.isEmpty {
            guard manager.count <= 128 else {
                throw .unprocessable("fieldManager: Too long: may not be longer than 128")
            }
            return manager
        }
        let agent = request.headers[.userAgent] ?? ""
        let product = agent.split(separator: "/").first.map(String.init) ?? ""
        return product.isEmpty ? "unknown" : String(product.prefix(128))
    }

    private func patchKind(_ contentType: String?, info: ResourceInfo) throws(APIError) -> PatchKind {
        let type = (contentType ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        switch type {
        case "application/merge-patch+json": return .merge
        case "application/json-patch+json": return .json
        case "application/apply-patch+yaml", "application/apply-patch+json": return .apply
        case "application/strategic-merge-patch+json":
            // Approximated by a merge patch for built-in kinds; custom resources reject it, as on a real server.
            guard info.builtin else { throw .unsupportedMediaType(type, accepted: APIError.patchMediaTypes) }
            return .merge
        default:
            throw .unsupportedMediaType(type, accepted: APIError.patchMediaTypes)
        }
    }

    private func deleteOptions(_ query: [String: String], body: [UInt8]) throws(APIError) -> DeleteOptions {
        var options = DeleteOptions()
        if let policy = query["propagationPolicy"], !policy.isEmpty { options.propagation = policy }
        guard !body.isEmpty else { return options }
        guard let json = TestJSON.parse(json: body), json.objectValue != nil else {
            throw .badRequest("DeleteOptions must be a JSON object")
        }
        if let orphan = json["orphanDependents"]?.boolValue { options.propagation = orphan ? "Orphan" : "Background" }
        if let policy = json["propagationPolicy"]?.stringValue { options.propagation = policy }
        options.preconditionResourceVersion = json.value(at: "preconditions", "resourceVersion")?.stringValue
        options.preconditionUID = json.value(at: "preconditions", "uid")?.stringValue
        return options
    }

    // MARK: Discovery

    private func groupList() -> TestJSON {
        let infos = store.withState { Array($0.registry.values) }
        var versionsByGroup: [String: Set<String>] = [:]
        for info in infos where !info.group.isEmpty { versionsByGroup[info.group, default: []].insert(info.version) }
        let groups: [TestJSON] = versionsByGroup.keys.sorted().map { group in
            let versions = (versionsByGroup[group] ?? []).sorted()
            let entries: [TestJSON] = versions.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }
            return ["name": .string(group), "versions": .array(entries), "preferredVersion": entries.first ?? [:]]
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    private func resourceList(group: String, version: String) throws(APIError) -> TestJSON {
        let infos = store.withState { state in
            state.registry.values.filter { $0.group == group && $0.version == version }.sorted { $0.resource < $1.resource }
        }
        guard !infos.isEmpty else { throw .noSuchPath() }
        var resources: [TestJSON] = []
        for info in infos {
            var entry: TestJSON = [
                "name": .string(info.resource), "singularName": .string(info.singular),
                "namespaced": .bool(info.namespaced), "kind": .string(info.kind),
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            ]
            if !info.shortNames.isEmpty { entry["shortNames"] = .array(info.shortNames.map(TestJSON.string)) }
            if !info.categories.isEmpty { entry["categories"] = .array(info.categories.map(TestJSON.string)) }
            resources.append(entry)
            if info.statusSubresource {
                resources.append(["name": .string(info.resource + "/status"), "singularName": "",
                                  "namespaced": .bool(info.namespaced), "kind": .string(info.kind),
                                  "verbs": ["get", "patch", "update"]])
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion),
                "resources": .array(resources)]
    }

    // MARK: Responses

    static func json(_ value: TestJSON, code: Int) -> Response {
        Response(status: .init(code: code), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: value.jsonData())))
    }
}
