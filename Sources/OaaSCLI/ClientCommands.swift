import ArgumentParser
import Foundation

/// The client commands of `oaas`: data plane (data-plane spec §12) and control plane (control-plane spec §15),
/// and their exit-code convention.
///
/// Mount ``all`` under the root command and route `main` through ``main(root:arguments:)`` (or map
/// errors with ``exitCode(for:)`` yourself):
///
/// ```swift
/// @main struct OaaS: AsyncParsableCommand {
///     static let configuration = CommandConfiguration(
///         commandName: "oaas", subcommands: [ServeCommand.self, DevCommand.self] + ClientCommands.all)
///     static func main() async { await ClientCommands.main(root: OaaS.self) }
/// }
/// ```
///
/// Exit codes: 0 success; 1 an error, already printed by the command as `error: <CODE>: <message>`
/// (+ `hint: …`) on stderr; 2 a usage error, printed by ArgumentParser with the usage line.
public enum ClientCommands {
    /// Top-level subcommands to mount under the `oaas` root command.
    public static let all: [any ParsableCommand.Type] = [
        ObjectCommand.self, InvokeCommand.self, ResultCommand.self, CapabilitiesCommand.self, StatsCommand.self, ContextCommand.self,
        PackageCommand.self, DeployCommand.self, ClassCommand.self, FunctionCommand.self, EnvCommand.self,
        ClassRuntimesCommand.self,
        RoutesCommand.self,
    ]

    /// Usage exit code of the CLI (spec §12.1); ArgumentParser's own is 64 (`EX_USAGE`).
    public static let usageExitCode: Int32 = 2

    /// The process exit code for an error thrown by parsing or by a command's `run()`:
    /// ArgumentParser's usage failures (bad flag, missing argument, `ValidationError`) become 2,
    /// help/version requests 0, `ExitCode(n)` n, anything else 1.
    public static func exitCode(for error: any Error) -> Int32 {
        let code = ObjectCommand.exitCode(for: error)
        return code == .validationFailure ? usageExitCode : code.rawValue
    }

    /// Parses `arguments` (default: the process arguments) against `root`, runs the selected
    /// command and exits: messages as ArgumentParser prints them, exit codes per ``exitCode(for:)``.
    public static func main(root: any ParsableCommand.Type, arguments: [String]? = nil) async -> Never {
        do {
            var command = try root.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            let code = exitCode(for: error)
            let text = root.fullMessage(for: error, columns: nil)
            if !text.isEmpty {
                if code == 0 {
                    print(text)
                } else {
                    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
                }
            }
            exit(code)
        }
    }
}
