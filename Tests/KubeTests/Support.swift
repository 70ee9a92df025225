import Foundation
import Kube
import KubeTestServer
import Logging
import Testing

/// A test server and a client talking to it over loopback HTTP; both are shut down however `body` ends.
func withKube<T: Sendable>(
    _ configuration: KubeTestServer.Configuration = quietServer(),
    fieldManager: String = "kube-tests",
    _ body: (KubeTestServer, KubeClient) async throws -> T
) async throws -> T {
    try await KubeTestServer.withRunning(configuration) { server in
        let client = try KubeClient(
            configuration: KubeConfig(server: server.url, namespace: "test"), fieldManager: fieldManager,
            requestTimeout: .seconds(5), logger: quietLogger())
        do {
            let result = try await body(server, client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "kube-tests")
    logger.logLevel = .critical
    return logger
}

func quietServer(
    eventWindow: Int = 1000, bookmarkInterval: Duration = .seconds(5), garbageCollectionDelay: Duration = .zero
) -> KubeTestServer.Configuration {
    KubeTestServer.Configuration(eventWindow: eventWindow, bookmarkInterval: bookmarkInterval,
                                 garbageCollectionDelay: garbageCollectionDelay, logger: quietLogger())
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `operation` with a deadline; throws `TimedOut` when it does not finish in time.
func within<T: Sendable>(
    _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimedOut(what: what) }
        return value
    }
}

/// Polls `condition` every 20 ms until it holds; throws `TimedOut` after `limit`.
func eventually(
    _ limit: Duration = .seconds(20), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    if try await condition() { return }
    throw TimedOut(what: what)
}

/// Reads events from an iterator until `stop` says so, bounded by `limit`.
func collect<S: AsyncSequence & Sendable>(
    _ sequence: S, limit: Duration = .seconds(5), until stop: @escaping @Sendable ([S.Element]) -> Bool
) async throws -> [S.Element] where S.Element: Sendable {
    try await within(limit, "events") {
        var events: [S.Element] = []
        for try await event in sequence {
            events.append(event)
            if stop(events) { break }
        }
        return events
    }
}

extension KubeObject {
    /// A namespaced object of `resource` in namespace `test`.
    static func make(
        _ resource: KubeResource, _ name: String, namespace: String = "test", labels: [String: String] = [:],
        spec: JSONValue? = nil
    ) -> KubeObject {
        var object = KubeObject(resource, name: name, namespace: namespace)
        if !labels.isEmpty { object.labels = labels }
        if let spec { object.spec = spec }
        return object
    }
}

/// A ConfigMap-like throwaway object (ConfigMaps carry `data`, no spec/status).
func configMap(_ name: String, labels: [String: String] = [:], data: [String: String] = [:]) -> KubeObject {
    var object = KubeObject.make(.configMaps, name, labels: labels)
    if !data.isEmpty { object["data"] = JSONValue(data) }
    return object
}

func deployment(_ name: String, replicas: Int64 = 1, image: String = "app:1", labels: [String: String] = [:])
    -> KubeObject
{
    KubeObject.make(.deployments, name, labels: labels, spec: [
        "replicas": .int(replicas),
        "selector": ["matchLabels": ["app": .string(name)]],
        "template": [
            "metadata": ["labels": ["app": .string(name)]],
            "spec": ["containers": [["name": "function", "image": .string(image)]]],
        ],
    ])
}

/// Registers a ClassRuntime-like CRD (status subresource on) for `oaas.io/v1alpha1`.
@discardableResult
func registerClassRuntimes(_ server: KubeTestServer) throws -> TestJSON {
    try server.registerCustomResource(group: "oaas.io", version: "v1alpha1", kind: "ClassRuntime",
                                      plural: "classruntimes")
}

/// Asserts `operation` throws a `KubeError` with HTTP `code`; returns it for further checks.
@discardableResult
func expectKubeError(
    _ code: Int, sourceLocation: SourceLocation = #_sourceLocation, _ operation: () async throws -> Void
) async -> KubeError? {
    do {
        try await operation()
        Issue.record("expected HTTP \(code), got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as KubeError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected KubeError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
