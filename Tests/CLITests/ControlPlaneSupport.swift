import ArgumentParser
import Foundation
import Synchronization
import Testing
@testable import OaaSCLI

/// What one `oaas …` invocation produced.
struct CLIRun: Sendable, CustomStringConvertible {
    var code: Int32
    var out: String
    var err: String

    var description: String { "exit \(code)\n--- stdout\n\(out)--- stderr\n\(err)" }

    /// Stdout lines split into whitespace-separated cells (tables).
    var rows: [[String]] {
        out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
    }
}

/// Collects what a command writes.
final class CapturedOutput: CommandOutput {
    private let buffer = Mutex((out: "", err: ""))

    func out(_ text: String) { buffer.withLock { $0.out += text } }
    func err(_ text: String) { buffer.withLock { $0.err += text } }

    var text: (out: String, err: String) { buffer.withLock { $0 } }
}

private struct ControlPlaneRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oaas", subcommands: ClientCommands.all)
}

/// A config path that does not exist: the built-in default context applies.
let missingConfigPath = FileManager.default.temporaryDirectory
    .appendingPathComponent("oaas-cli-tests-\(UUID().uuidString)/config.yml").path

/// Runs `oaas <arguments>` in process like the executable does: parse (usage errors exit 2), then the
/// command against `pm` (added as `--pm`), with a short poll interval unless `environment` says otherwise.
func oaas(_ arguments: [String], pm: FakePM?, environment: [String: String] = [:]) async -> CLIRun {
    var env = ["OAAS_CONFIG_PATH": missingConfigPath, "OAAS_WAIT_INTERVAL_MS": "10"]
    env.merge(environment) { _, new in new }
    let full = arguments + (pm.map { ["--pm", $0.url] } ?? [])
    let parsed: any ParsableCommand
    do {
        parsed = try ControlPlaneRoot.parseAsRoot(full)
    } catch {
        return CLIRun(code: ClientCommands.exitCode(for: error), out: "", err: ControlPlaneRoot.fullMessage(for: error))
    }
    guard let command = parsed as? any ControlPlaneCommand else {
        return CLIRun(code: -1, out: "", err: "not a control-plane command: \(type(of: parsed))")
    }
    let output = CapturedOutput()
    let code = await command.run(io: output, environment: env)
    return CLIRun(code: code, out: output.text.out, err: output.text.err)
}

/// A temp directory with the given files, removed after `body`.
func withFiles<T>(_ files: [String: String], _ body: (URL) async throws -> T) async throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("oaas-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    for (name, text) in files {
        try Data(text.utf8).write(to: dir.appendingPathComponent(name))
    }
    return try await body(dir)
}

/// Parses command output as JSON.
func parseJSON(_ text: String) throws -> StructuredValue {
    try FakePM.parse(text)
}

enum Fixtures {
    /// A package with one class, one function and one deployment without `package_name`.
    static let shop = """
        name: shop
        version: 1.2
        metadata: {author: team-a, tags: [demo]}
        classes:
        - key: Cart
          function_bindings:
          - {name: add, function_key: Cart.add}
        functions:
        - key: Cart.add
          provision_config: {endpoint_url: "http://127.0.0.1:9101"}
        deployments:
        - {key: cart, class_key: Cart, target_envs: [local]}
        """

    static let deployment = """
        key: cart
        package_name: shop
        class_key: Cart
        target_envs: [local]
        """

    /// Seeds the fake PM with the `shop` package.
    static func seedShop(_ pm: FakePM) throws {
        let package = try FakePM.parse("""
            {"name":"shop","version":"1.2","metadata":{"author":"team-a","tags":["demo"],"updated_at":"2025-01-02T03:04:05Z"},
             "classes":[{"key":"Cart","function_bindings":[{"name":"add","function_key":"Cart.add"}]}],
             "functions":[{"key":"Cart.add","function_type":"CUSTOM","provision_config":{"endpoint_url":"http://127.0.0.1:9101"}}]}
            """)
        pm.configure { $0.packages["shop"] = package }
    }
}
