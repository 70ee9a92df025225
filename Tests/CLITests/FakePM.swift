import Foundation
import HTTPTestSupport
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
@testable import OaaSCLI

/// A request as the fake PM saw it.
struct RecordedRequest: Sendable {
    var method: String
    /// Decoded path segments after `/api/v1`, joined with `/` (e.g. `deployments/cart/status`).
    var route: String
    var query: [(name: String, value: String)]
    /// Lowercased names.
    var headers: [String: String]
    var body: String

    func query(_ name: String) -> [String] { query.filter { $0.name == name }.map(\.value) }

    var json: StructuredValue? { try? FakePM.parse(body) }
}

/// An in-memory PM on a loopback port answering the routes and shapes of control-plane spec §4 that the CLI
/// uses. Tests seed it, script status sequences and faults, and read back what was sent.
final class FakePM: Sendable {
    struct State: Sendable {
        var requests: [RecordedRequest] = []
        var packages: [String: StructuredValue] = [:]
        var deployments: [String: StructuredValue] = [:]
        /// Status views served in turn by GET /deployments/{key}/status; the last one repeats.
        var statusScript: [String: [StructuredValue]] = [:]
        var envs: [StructuredValue] = []
        var classRuntimes: [StructuredValue] = []
        /// `warnings` of every package write.
        var packageWarnings: [String] = []
        /// Canned answers by `METHOD route`, taking precedence over the built-in behaviour.
        var faults: [String: (status: Int, body: StructuredValue)] = [:]
        /// `X-Partial-Envs` on GET /class-runtimes.
        var partialEnvs: String?
    }

    let state = Mutex(State())
    let url: String

    private init(url: String) {
        self.url = url
    }

    /// Runs `body` with a started server on 127.0.0.1 and an ephemeral port, then stops it.
    static func withRunning<T: Sendable>(_ body: (FakePM) async throws -> T) async throws -> T {
        let holder = Holder()
        let logger = Logger(label: "fake-pm", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try await BackgroundApplication.start(name: "fake PM", logger: logger) {
            Application(
                responder: FakePMResponder(holder: holder),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: $0,
                logger: logger
            )
        }
        let pm = FakePM(url: "http://127.0.0.1:\(server.port)")
        holder.pm.withLock { $0 = pm }
        return try await server.whileRunning { try await body(pm) }
    }

    var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Requests other than GETs, in order, as `METHOD route`.
    var writes: [String] { requests.filter { $0.method != "GET" }.map { "\($0.method) \($0.route)" } }

    func configure(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }

    static func parse(_ json: String) throws -> StructuredValue {
        StructuredValue.from(any: try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]))
    }

    static func envelope(_ code: String, _ message: String, field: String? = nil,
                         details: [(field: String, message: String)] = []) -> StructuredValue {
        var error: [(String, StructuredValue)] = [("code", .string(code)), ("message", .string(message))]
        if let field { error.append(("field", .string(field))) }
        if !details.isEmpty {
            error.append(("details", .array(details.map { .object([("field", .string($0.field)), ("message", .string($0.message))]) })))
        }
        return .object([("error", .object(error))])
    }

    /// A DeploymentStatusView with one entry per `(env, condition, message)`.
    static func statusView(_ key: String, condition: String, envs: [(env: String, condition: String, message: String?)],
                           ready: String = "1/1") -> StructuredValue {
        .object([
            ("key", .string(key)), ("package_name", .string("shop")), ("class_key", .string("Cart")),
            ("condition", .string(condition)),
            ("envs", .array(envs.map { env in
                var members: [(String, StructuredValue)] = [
                    ("env", .string(env.env)), ("unit_id", .string("\(key)-\(env.env)-unit")), ("dispatch", .string("accepted")),
                    ("condition", .string(env.condition)), ("template", .string("dev")), ("ready", .string(ready)),
                ]
                if let message = env.message { members.append(("message", .string(message))) }
                return .object(members)
            })),
        ])
    }
}

/// Lets the responder reach the server object created after it.
private final class Holder: Sendable {
    let pm = Mutex<FakePM?>(nil)
}

private struct FakePMResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let holder: Holder

    struct Reply {
        var status: Int
        var body: StructuredValue?
        var headers: [(String, String)] = []
    }

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 16 * 1024 * 1024)
        let segments = request.uri.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let recorded = RecordedRequest(
            method: request.method.rawValue,
            route: segments.starts(with: ["api", "v1"]) ? segments.dropFirst(2).joined(separator: "/") : segments.joined(separator: "/"),
            query: request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) },
            headers: headers, body: String(buffer: buffer))
        guard let pm = holder.pm.withLock({ $0 }) else { return Self.response(Reply(status: 503, body: nil)) }
        let reply = pm.state.withLock { state in
            state.requests.append(recorded)
            return FakePMLogic.handle(recorded, &state)
        }
        return Self.response(reply)
    }

    static func response(_ reply: Reply) -> Response {
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        guard let body = reply.body else { return Response(status: .init(code: reply.status), headers: fields) }
        fields[.contentType] = "application/json"
        return Response(status: .init(code: reply.status), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(string: body.jsonText())))
    }
}

/// The fake's behaviour: plain functions over the state, one per route.
private enum FakePMLogic {
    typealias Reply = FakePMResponder.Reply

    static func handle(_ request: RecordedRequest, _ state: inout State) -> Reply {
        if let fault = state.faults["\(request.method) \(request.route)"] {
            return Reply(status: fault.status, body: fault.body)
        }
        let path = request.route.split(separator: "/").map(String.init)
        switch (request.method, path.count, path.first ?? "") {
        case ("POST", 1, "packages"): return createPackage(request, &state)
        case ("POST", 2, "packages"): return updatePackage(path[1], request, &state)
        case ("GET", 1, "packages"): return listPackages(request, state)
        case ("GET", 2, "packages"):
            return state.packages[path[1]].map { Reply(status: 200, body: $0) } ?? notFound("package '\(path[1])' not found")
        case ("DELETE", 2, "packages"): return deletePackage(path[1], request, &state)
        case ("POST", 1, "deployments"): return applyDeployment(request, &state)
        case ("GET", 1, "deployments"): return page(Array(state.deployments.values).sorted(by: key("key")), request)
        case ("GET", 2, "deployments"):
            return state.deployments[path[1]].map { Reply(status: 200, body: $0) } ?? notFound("deployment '\(path[1])' not found")
        case ("GET", 3, "deployments") where path[2] == "status": return status(path[1], &state)
        case ("DELETE", 2, "deployments"): return deleteDeployment(path[1], &state)
        case ("GET", 1, "classes"): return page(classes(state, request), request)
        case ("GET", 2, "classes"):
            return classes(state, nil).first { $0["key"]?.stringValue == path[1] }.map { Reply(status: 200, body: $0) }
                ?? notFound("class '\(path[1])' not found")
        case ("GET", 1, "functions"): return page(functions(state, request), request)
        case ("GET", 1, "envs"): return page(state.envs, request)
        case ("GET", 2, "envs") where path[1] == "health": return page(state.envs.compactMap { $0["health"] }, request)
        case ("GET", 1, "class-runtimes"): return classRuntimes(request, state)
        case ("GET", 2, "class-runtimes"):
            let env = request.query("env").first
            return state.classRuntimes.first { $0["id"]?.stringValue == path[1] && (env == nil || $0["target_environment"]?.stringValue == env) }
                .map { Reply(status: 200, body: $0) } ?? notFound("class runtime '\(path[1])' not found")
        default:
            return notFound("no route \(request.method) /api/v1/\(request.route)")
        }
    }

    typealias State = FakePM.State

    static func error(_ status: Int, _ code: String, _ message: String, field: String? = nil,
                      details: [(field: String, message: String)] = []) -> Reply {
        Reply(status: status, body: FakePM.envelope(code, message, field: field, details: details))
    }

    static func notFound(_ message: String) -> Reply { error(404, "NOT_FOUND", message) }

    static func key(_ name: String) -> (StructuredValue, StructuredValue) -> Bool {
        { ($0[name]?.stringValue ?? "") < ($1[name]?.stringValue ?? "") }
    }

    /// Plain array, `limit`/`offset`, `X-Total-Count` (spec §4.1).
    static func page(_ items: [StructuredValue], _ request: RecordedRequest) -> Reply {
        let limit = request.query("limit").first.flatMap(Int.init) ?? 100
        let offset = request.query("offset").first.flatMap(Int.init) ?? 0
        let slice = items.dropFirst(offset).prefix(limit)
        return Reply(status: 200, body: .array(Array(slice)), headers: [("X-Total-Count", String(items.count))])
    }

    static func packageResponse(_ name: String, status: String, state: State, redeployed: [String] = []) -> StructuredValue {
        .object([
            ("id", .string(name)), ("status", .string(status)), ("message", .string("package \(status)")),
            ("warnings", .array(state.packageWarnings.map { .string($0) })), ("redeployed", .array(redeployed.map { .string($0) })),
        ])
    }

    static func stored(_ package: StructuredValue) -> StructuredValue {
        let metadata = (package["metadata"] ?? .object([])).setting("updated_at", to: .string("2025-01-02T03:04:05Z"))
        return package.setting("metadata", to: metadata)
    }

    static func createPackage(_ request: RecordedRequest, _ state: inout State) -> Reply {
        guard let body = request.json, let name = body["name"]?.stringValue, !name.isEmpty else {
            return error(400, "VALIDATION_FAILED", "name: required", field: "name")
        }
        if state.packages[name] != nil { return error(409, "ALREADY_EXISTS", "package '\(name)' already exists") }
        state.packages[name] = stored(body)
        return Reply(status: 201, body: packageResponse(name, status: "created", state: state), headers: [("Location", "/api/v1/packages/\(name)")])
    }

    static func updatePackage(_ name: String, _ request: RecordedRequest, _ state: inout State) -> Reply {
        guard state.packages[name] != nil else { return notFound("package '\(name)' not found") }
        guard let body = request.json, body["name"]?.stringValue == name else {
            return error(400, "VALIDATION_FAILED", "name: must equal the path name '\(name)'", field: "name")
        }
        state.packages[name] = stored(body)
        let redeployed = state.deployments.values.filter { $0["package_name"]?.stringValue == name }.compactMap { $0["key"]?.stringValue }
        return Reply(status: 200, body: packageResponse(name, status: "updated", state: state, redeployed: redeployed.sorted()))
    }

    static func listPackages(_ request: RecordedRequest, _ state: State) -> Reply {
        let pattern = request.query("name_pattern").first
        let tags = Set(request.query("tag"))
        let items = state.packages.values.filter { package in
            let name = package["name"]?.stringValue ?? ""
            let packageTags = Set((package[path: "metadata", "tags"]?.arrayValue ?? []).compactMap(\.stringValue))
            return (pattern.map { name.contains($0) } ?? true) && (tags.isEmpty || !tags.isDisjoint(with: packageTags))
        }
        return page(items.sorted(by: key("name")), request)
    }

    static func deletePackage(_ name: String, _ request: RecordedRequest, _ state: inout State) -> Reply {
        guard state.packages[name] != nil else { return notFound("package '\(name)' not found") }
        let using = state.deployments.values.filter { $0["package_name"]?.stringValue == name }.compactMap { $0["key"]?.stringValue }.sorted()
        if !using.isEmpty, request.query("cascade").first != "true" {
            return error(409, "IN_USE", "package '\(name)' has deployments", details: using.map { (field: "deployments", message: $0) })
        }
        for key in using { state.deployments[key] = nil }
        state.packages[name] = nil
        return Reply(status: 204, body: nil)
    }

    static func applyDeployment(_ request: RecordedRequest, _ state: inout State) -> Reply {
        guard let body = request.json, let key = body["key"]?.stringValue, !key.isEmpty else {
            return error(400, "VALIDATION_FAILED", "key: required", field: "key")
        }
        let exists = state.deployments[key] != nil
        if exists, request.headers["if-none-match"] == "*" {
            return error(409, "ALREADY_EXISTS", "deployment '\(key)' already exists")
        }
        let package = body["package_name"]?.stringValue ?? ""
        guard state.packages[package] != nil else {
            return error(404, "NOT_FOUND", "package_name: package '\(package)' not found", field: "package_name")
        }
        let targets = (body["target_envs"]?.arrayValue ?? []).compactMap(\.stringValue)
        let envs = targets.isEmpty ? ["local"] : targets
        state.deployments[key] = body.setting("condition", to: .string("RUNNING"))
            .setting("status", to: .object([("selected_envs", .array(envs.map { .string($0) }))]))
            .setting("revision", to: .uint(2))
        let units: [StructuredValue] = envs.map {
            .object([("env", .string($0)), ("unit_id", .string("\(key)-\($0)-unit")), ("result", .string("accepted"))])
        }
        let status = exists ? "updated" : "created"
        return Reply(status: exists ? 200 : 201, body: .object([
            ("id", .string(key)), ("status", .string(status)), ("message", .string("deployment \(status)")),
            ("units", .array(units)), ("warnings", .array([])),
        ]))
    }

    static func status(_ key: String, _ state: inout State) -> Reply {
        if var script = state.statusScript[key], let next = script.first {
            if script.count > 1 { script.removeFirst() }
            state.statusScript[key] = script
            return Reply(status: 200, body: next)
        }
        guard state.deployments[key] != nil else { return notFound("deployment '\(key)' not found") }
        return Reply(status: 200, body: FakePM.statusView(key, condition: "RUNNING", envs: [(env: "local", condition: "Running", message: "Available")]))
    }

    static func deleteDeployment(_ key: String, _ state: inout State) -> Reply {
        guard let record = state.deployments.removeValue(forKey: key) else { return notFound("deployment '\(key)' not found") }
        return Reply(status: 200, body: .object([
            ("message", .string("Deployment deleted across environments")), ("id", .string(key)),
            ("deleted_envs", record[path: "status", "selected_envs"] ?? .array([])),
        ]))
    }

    static func classes(_ state: State, _ request: RecordedRequest?) -> [StructuredValue] {
        let package = request?.query("package").first
        let filter = request?.query("filter").first
        return state.packages.values.sorted(by: key("name")).flatMap { p -> [StructuredValue] in
            let name = p["name"]?.stringValue ?? ""
            return (p["classes"]?.arrayValue ?? []).map { c in
                let classKey = c["key"]?.stringValue ?? ""
                return c.setting("key", to: .string("\(name).\(classKey)")).setting("package_name", to: .string(name))
                    .setting("class_key", to: .string(classKey))
            }
        }.filter { c in
            (package.map { c["package_name"]?.stringValue == $0 } ?? true) && (filter.map { (c["key"]?.stringValue ?? "").contains($0) } ?? true)
        }
    }

    static func functions(_ state: State, _ request: RecordedRequest) -> [StructuredValue] {
        let package = request.query("package").first
        return state.packages.values.sorted(by: key("name")).flatMap { p -> [StructuredValue] in
            let name = p["name"]?.stringValue ?? ""
            let bindings = (p["classes"]?.arrayValue ?? []).flatMap { c in
                (c["function_bindings"]?.arrayValue ?? []).map { (fn: $0["function_key"]?.stringValue ?? "",
                                                                   name: "\(name).\(c["key"]?.stringValue ?? "").\($0["name"]?.stringValue ?? "")") }
            }
            return (p["functions"]?.arrayValue ?? []).map { f in
                let fkey = f["key"]?.stringValue ?? ""
                return f.setting("package_name", to: .string(name))
                    .setting("bound_by", to: .array(bindings.filter { $0.fn == fkey }.map { .string($0.name) }))
            }
        }.filter { f in package.map { f["package_name"]?.stringValue == $0 } ?? true }
    }

    static func classRuntimes(_ request: RecordedRequest, _ state: State) -> Reply {
        let env = request.query("env").first
        let status = request.query("status").first?.lowercased()
        let items = state.classRuntimes.filter { r in
            (env.map { r["target_environment"]?.stringValue == $0 } ?? true)
                && (status.map { r[path: "status", "condition"]?.stringValue?.lowercased() == $0 } ?? true)
        }
        var reply = page(items, request)
        if let partial = state.partialEnvs { reply.headers.append(("X-Partial-Envs", partial)) }
        return reply
    }
}
