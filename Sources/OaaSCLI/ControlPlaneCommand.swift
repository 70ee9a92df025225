import ArgumentParser
import Foundation

/// Where a control-plane command writes: stdout carries the requested output, stderr warnings and errors.
/// Tests pass a capturing sink; the process uses ``StandardOutput``.
protocol CommandOutput: Sendable {
    func out(_ text: String)
    func err(_ text: String)
}

struct StandardOutput: CommandOutput {
    func out(_ text: String) { Terminal.write(text) }
    func err(_ text: String) { Terminal.writeError(text) }
}

/// What a control-plane command runs with once flags, env and config are resolved.
struct PMSession: Sendable {
    var client: PMClient
    var format: OutputFormat
    var io: any CommandOutput
    /// The process environment (tests pass their own): `OAAS_WAIT_INTERVAL_MS` and friends.
    var environment: [String: String]

    func out(_ text: String) { io.out(text) }

    /// `warning: …` on stderr, one line per warning.
    func warn(_ warnings: [String], prefix: String = "") {
        for warning in warnings {
            io.err("warning: \(prefix)\(warning)\n")
        }
    }

    /// PM's `warnings` array of a response, if any.
    func warn(from response: StructuredValue) {
        warn((response["warnings"]?.arrayValue ?? []).compactMap(\.stringValue))
    }

    /// `-o json|yaml`: the value as text on stdout.
    func emit(_ value: StructuredValue) throws {
        out(try value.text(format))
    }
}

/// A command that talks to PM (spec §15): `--pm`, `--correlation-id` and the global flags.
protocol ControlPlaneCommand: AsyncParsableCommand {
    var global: GlobalOptions { get }
    var connection: PMOptions { get }
    func execute(_ session: PMSession) async throws
}

extension ControlPlaneCommand {
    /// Resolves PM, runs the command, prints any failure to `io` and returns the exit code:
    /// 0, 1 for errors (`error: CODE: message`), 2 for usage found at run time, 6 for a wait timeout.
    func run(io: any CommandOutput, environment: [String: String]) async -> Int32 {
        do {
            let endpoint = try connection.endpoint(global: global, environment: environment)
            try await PMClient.withHTTPClient { http in
                let client = PMClient(endpoint: endpoint, correlationID: connection.correlationID, http: http)
                try await execute(PMSession(client: client, format: global.format(), io: io, environment: environment))
            }
            return 0
        } catch {
            return Terminal.report(error, writeError: io.err).rawValue
        }
    }

    /// The process entry: real stdout/stderr and environment.
    func runInProcess() async throws {
        let code = await run(io: StandardOutput(), environment: ProcessInfo.processInfo.environment)
        if code != 0 { throw ExitCode(code) }
    }
}

extension CLIFailure {
    /// A usage error found while running (exit 2, nothing more is sent), e.g. a flag that does not fit a file.
    static func usage(_ message: String, hint: String? = nil) -> CLIFailure {
        CLIFailure(code: "INVALID_ARGUMENT", message: message, hint: hint, exitCode: ClientCommands.usageExitCode)
    }
}
