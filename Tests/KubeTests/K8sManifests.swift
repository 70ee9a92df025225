import Foundation
import KubeTestServer
import Synchronization
import Testing

/// The kustomizations shipped under `k8s/`, rendered by the real `kubectl kustomize` and parsed into objects.
enum K8sManifests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("k8s")

    /// Every kustomization a user can apply (`""` is `k8s/` itself).
    static let kustomizations = ["", "base", "overlays/kind", "overlays/etcd", "overlays/multi-env"]

    static func path(_ relative: String) -> String {
        relative.isEmpty ? directory.path : directory.appendingPathComponent(relative).path
    }

    /// One rendering per kustomization per test run, shared by every test that asks, even concurrently (each
    /// `kubectl kustomize` costs CPU the other suites' API servers need).
    private static let renderings = Mutex<[String: Task<RenderedManifests, any Error>]>([:])

    static func render(_ kustomization: String) async throws -> RenderedManifests {
        let task = renderings.withLock { renderings in
            if let running = renderings[kustomization] { return running }
            let task = Task { try await kustomize(kustomization) }
            renderings[kustomization] = task
            return task
        }
        return try await task.value
    }

    private static func kustomize(_ kustomization: String) async throws -> RenderedManifests {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("oaas-kustomize-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: output) }
        let run = try await kubectl(["kustomize", path(kustomization), "-o", output.path])
        guard run.status == 0 else {
            throw KustomizeFailed(kustomization: kustomization, status: run.status, message: run.output)
        }
        return try RenderedManifests(yaml: String(contentsOf: output, encoding: .utf8), source: kustomization)
    }

    /// Runs kubectl and returns its exit status and combined output. It waits without holding a thread of the
    /// concurrency pool (test API servers answer kubectl from that pool), and kubectl writes to a file, so it can
    /// never stall on a full pipe.
    static func kubectl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("oaas-kubectl-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: log.path])
        }
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kubectlPath ?? "/usr/bin/kubectl")
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        // Read after the wait, which also keeps `process` alive until it has exited.
        return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }
}

struct KustomizeFailed: Error, CustomStringConvertible {
    var kustomization: String
    var status: Int32
    var message: String
    var description: String { "kubectl kustomize k8s/\(kustomization) exited \(status): \(message)" }
}

struct UnparsableDocument: Error, CustomStringConvertible {
    var source: String
    var index: Int
    var description: String { "k8s/\(source): rendered document \(index) is not a YAML mapping" }
}

/// The objects of one rendered kustomization, in output order.
struct RenderedManifests: Sendable {
    var objects: [TestJSON]

    /// Splits a YAML stream at `---` lines (kustomize writes nothing else at column 0 with that prefix).
    init(yaml: String, source: String) throws {
        var documents: [[Substring]] = [[]]
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "---" {
                documents.append([])
            } else {
                documents[documents.count - 1].append(line)
            }
        }
        objects = try documents.map { $0.joined(separator: "\n") }
            .filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            .enumerated()
            .map { index, text in
                guard let object = TestJSON.parse(yaml: text), object.objectValue != nil else {
                    throw UnparsableDocument(source: source, index: index)
                }
                return object
            }
    }

    func all(_ kind: String) -> [TestJSON] {
        objects.filter { $0.kind == kind }
    }

    func object(_ kind: String, _ name: String, namespace: String? = nil) -> TestJSON? {
        objects.first { $0.kind == kind && $0.name == name && $0.namespace == namespace }
    }

    /// The ConfigMap an `envFrom` reference names (generated names carry a content hash).
    func configMapData(named name: String, namespace: String) -> [String: String] {
        let data = object("ConfigMap", name, namespace: namespace)?["data"]?.objectValue ?? [:]
        return data.compactMapValues(\.stringValue)
    }
}

extension TestJSON {
    var kind: String? { self["kind"]?.stringValue }
    var name: String? { value(at: "metadata", "name")?.stringValue }
    var namespace: String? { value(at: "metadata", "namespace")?.stringValue }
    var labels: [String: String] {
        value(at: "metadata", "labels")?.objectValue?.compactMapValues(\.stringValue) ?? [:]
    }

    /// A list field as an array (absent = empty).
    func list(_ path: String...) -> [TestJSON] { value(at: path)?.arrayValue ?? [] }

    func strings(_ path: String...) -> [String] { (value(at: path)?.arrayValue ?? []).compactMap(\.stringValue) }

    /// `spec.template.spec` of a workload.
    var podSpec: TestJSON? { value(at: "spec", "template", "spec") }

    /// The first (our workloads' only) container.
    var container: TestJSON? { podSpec?["containers"]?.arrayValue?.first }

    /// Plain `value` env entries of a container, by name.
    var envValues: [String: String] {
        var values: [String: String] = [:]
        for entry in list("env") {
            if let name = entry["name"]?.stringValue, let value = entry["value"]?.stringValue { values[name] = value }
        }
        return values
    }

    /// The downward-API field an env entry of a container reads, if any.
    func envFieldRef(_ name: String) -> String? {
        list("env").first { $0["name"]?.stringValue == name }?.value(at: "valueFrom", "fieldRef", "fieldPath")?
            .stringValue
    }
}

/// One RBAC grant: a verb on a resource of an API group, optionally limited to named objects.
struct Grant: Hashable, CustomStringConvertible {
    var group: String
    var resource: String
    var verb: String
    var resourceNames: [String] = []

    var description: String {
        let names = resourceNames.isEmpty ? "" : " \(resourceNames)"
        return "\(group.isEmpty ? "core" : group)/\(resource) \(verb)\(names)"
    }

    /// Every grant a Role's rules make, one per group × resource × verb (so rule grouping does not matter).
    static func expand(_ role: TestJSON) -> Set<Grant> {
        var grants: Set<Grant> = []
        for rule in role.list("rules") {
            let names = rule.strings("resourceNames").sorted()
            for group in rule.strings("apiGroups") {
                for resource in rule.strings("resources") {
                    for verb in rule.strings("verbs") {
                        grants.insert(Grant(group: group, resource: resource, verb: verb, resourceNames: names))
                    }
                }
            }
        }
        return grants
    }

    static func all(_ group: String, _ resources: [String], _ verbs: [String], names: [String] = []) -> Set<Grant> {
        Set(resources.flatMap { resource in
            verbs.map { Grant(group: group, resource: resource, verb: $0, resourceNames: names) }
        })
    }
}
