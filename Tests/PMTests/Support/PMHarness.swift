import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OaaSCore
import PM
import Testing

/// A running PM under test: real HTTP on a loopback port, fake CRMs on their own loopback ports.
struct PMHarness: Sendable {
    let client: any TestClientProtocol
    let crms: [FakeCRM]
    let metrics: TestMetrics
    let logs: LogCapture
    let role: PMRole
    let container: ServiceContainer

    func crm(_ env: String) throws -> FakeCRM {
        guard let crm = crms.first(where: { $0.envName == env }) else { throw HarnessError("no fake CRM for env '\(env)'") }
        return crm
    }

    /// PM settings for tests: fast retries, reconciler and poller, no caching surprises unless asked for.
    static func config(envs: [CRMEnvConfig], storage: PMConfig.Storage = .memory) -> PMConfig {
        var config = PMConfig(envs: envs, storage: storage)
        config.retryBaseDelay = .milliseconds(10)
        config.retryMaxDelay = .milliseconds(50)
        config.reconcileInterval = .milliseconds(100)
        config.reconcileMaxBackoff = .milliseconds(200)
        config.healthCheckInterval = .seconds(3600)
        config.healthCacheTTL = .seconds(15)
        return config
    }

    /// Starts the fake CRMs (each an env of its name), then PM with `configure` applied, runs `test`, and stops
    /// everything. `extraEnvs` are envs without a fake (e.g. an unreachable URL).
    static func run(
        crms: [FakeCRM] = [],
        extraEnvs: [CRMEnvConfig] = [],
        storage: PMConfig.Storage = .memory,
        inProcess: [(env: String, client: any CRMClient)] = [],
        configure: (inout PMConfig) -> Void = { _ in },
        _ test: @Sendable (PMHarness) async throws -> Void
    ) async throws {
        var envs = extraEnvs
        for crm in crms {
            let url = try await crm.start()
            envs.append(CRMEnvConfig(name: crm.envName, url: url, timeout: .seconds(5), retryAttempts: 2))
        }
        var config = Self.config(envs: envs, storage: storage)
        configure(&config)
        let logs = LogCapture()
        let metrics = TestMetrics()
        let container = ServiceContainer(logger: logs.logger(), env: EnvReader([:]), metrics: .init(), devMode: false)
        do {
            let role = try await PMRole(config: config, container: container, inProcessCRMs: inProcess, metricsFactory: metrics)
            let router = Router()
            role.register(on: router)
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), services: role.services, logger: logs.logger(level: .info))
            try await app.test(.live) { client in
                try await test(PMHarness(client: client, crms: crms, metrics: metrics, logs: logs, role: role, container: container))
                trace("PM test body done")
            }
            trace("PM app stopped")
        } catch {
            for crm in crms { await crm.stop() }
            await container.shutdown()
            throw error
        }
        for crm in crms { await crm.stop() }
        trace("fake CRMs stopped")
        await container.shutdown()
        trace("container shut down")
    }

    // MARK: Requests

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, contentType: String? = "application/json", headers: HTTPFields = [:]) async throws -> PMResponse {
        var headers = headers
        if body != nil, let contentType { headers[.contentType] = contentType }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return PMResponse(status: Int(response.status.code), headers: response.headers, data: Data(response.body.readableBytesView))
    }

    @discardableResult
    func get(_ path: String, headers: HTTPFields = [:]) async throws -> PMResponse { try await send(.get, path, headers: headers) }

    @discardableResult
    func post(_ path: String, _ body: String, contentType: String? = "application/json", headers: HTTPFields = [:]) async throws -> PMResponse {
        try await send(.post, path, body: body, contentType: contentType, headers: headers)
    }

    @discardableResult
    func put(_ path: String, _ body: String, headers: HTTPFields = [:]) async throws -> PMResponse {
        try await send(.put, path, body: body, headers: headers)
    }

    @discardableResult
    func delete(_ path: String, headers: HTTPFields = [:]) async throws -> PMResponse { try await send(.delete, path, headers: headers) }

    /// Polls `condition` until it holds or `timeout` passes.
    func eventually(timeout: Duration = .seconds(5), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return try await condition()
    }
}

struct PMResponse: Sendable {
    let status: Int
    let headers: HTTPFields
    let data: Data

    var text: String { String(decoding: data, as: UTF8.self) }

    func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }

    func object() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw HarnessError("not a JSON object: \(text)") }
        return object
    }

    func array() throws -> [[String: Any]] {
        guard let array = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { throw HarnessError("not a JSON array of objects: \(text)") }
        return array
    }

    /// `error.code`, `error.field` of the envelope.
    var errorCode: String? { ((try? object())?["error"] as? [String: Any])?["code"] as? String }
    var errorField: String? { ((try? object())?["error"] as? [String: Any])?["field"] as? String }
    var errorMessage: String? { ((try? object())?["error"] as? [String: Any])?["message"] as? String }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String? { self[key] as? String }
    func object(_ key: String) -> [String: Any]? { self[key] as? [String: Any] }
    func objects(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
    func strings(_ key: String) -> [String] { self[key] as? [String] ?? [] }
}

func trace(_ message: String) {
    guard ProcessInfo.processInfo.environment["OAAS_TEST_TRACE"] != nil else { return }
    FileHandle.standardError.write(Data("TRACE \(Date().timeIntervalSince1970) \(Test.current?.name ?? "-") \(message)\n".utf8))
}
