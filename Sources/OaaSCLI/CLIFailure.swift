import ArgumentParser
import Foundation
import GRPCCore
import OaaSCore

/// A command failure reported as `error: <CODE>: <message>` (+ `hint: …`) with exit 1 (spec §12.1).
/// CODE is a gRPC code name; local failures use the nearest one.
struct CLIFailure: Error, Equatable, Sendable, CustomStringConvertible {
    var code: String
    var message: String
    var hint: String?
    /// Extra lines printed under the error, one per problem (e.g. PM's `details`).
    var details: [String]
    /// 1 for every error except a `--wait`/`--watch` timeout (6).
    var exitCode: Int32

    init(code: String, message: String, hint: String? = nil, details: [String] = [], exitCode: Int32 = 1) {
        self.code = code
        self.message = message
        self.hint = hint
        self.details = details
        self.exitCode = exitCode
    }

    var description: String { "\(code): \(message)" }

    /// The lines written to stderr.
    var report: String {
        var text = "error: \(code): \(message)\n"
        for line in details { text += "  \(line)\n" }
        if let hint { text += "hint: \(hint)\n" }
        return text
    }

    static func unknownContext(_ name: String, known: [String]) -> CLIFailure {
        let hint = known.isEmpty
            ? "create it with 'oaas context set \(name)'"
            : "known contexts: \(known.joined(separator: ", "))"
        return CLIFailure(code: "NOT_FOUND", message: "context '\(name)' not found", hint: hint)
    }

    /// Any error a command body can throw, as a reportable failure.
    static func from(_ error: any Error) -> CLIFailure {
        switch error {
        case let failure as CLIFailure:
            return failure
        case let convertible as any CLIFailureConvertible:
            return convertible.cliFailure
        case let rpc as RPCError:
            return CLIFailure(code: OaaSError.name(of: rpc.code), message: rpc.message)
        case let oaas as OaaSError:
            return CLIFailure(code: oaas.rpcCodeName, message: oaas.message)
        case let runtime as RuntimeError:
            return CLIFailure(code: "UNAVAILABLE", message: runtime.message)
        default:
            return CLIFailure(code: "INTERNAL", message: "\(error)")
        }
    }
}

/// An error type of its own (e.g. a PM error envelope) that knows how it is reported.
protocol CLIFailureConvertible: Error {
    var cliFailure: CLIFailure { get }
}

/// Process output. Commands write stdout through here so raw bytes and text never interleave
/// with buffered `print` output.
enum Terminal {
    static func write(_ data: Data) {
        FileHandle.standardOutput.write(data)
    }

    static func write(_ text: String) {
        write(Data(text.utf8))
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Runs a command body. Failures are printed as `error: CODE: …` (+ hint) and become exit 1;
    /// a `ValidationError` found while running (e.g. no class) is a usage error: printed the same
    /// way with INVALID_ARGUMENT and exit 2, so it needs no mapping by the caller's `main`.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            throw report(error)
        }
    }

    /// Synchronous variant for commands that only touch the config file.
    static func runSync(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            throw report(error)
        }
    }

    private static func report(_ error: any Error) -> ExitCode {
        report(error, writeError: writeError)
    }

    /// Prints `error` through `writeError` and returns the exit code it stands for.
    static func report(_ error: any Error, writeError: (String) -> Void) -> ExitCode {
        switch error {
        case let exit as ExitCode:
            return exit
        case let usage as ValidationError:
            writeError(CLIFailure(code: "INVALID_ARGUMENT", message: usage.message).report)
            return ExitCode(ClientCommands.usageExitCode)
        default:
            let failure = CLIFailure.from(error)
            writeError(failure.report)
            return ExitCode(failure.exitCode)
        }
    }
}
