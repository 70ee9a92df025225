import ArgumentParser
import Foundation
import FunctionKit

/// One runtime serving the example functions, so a whole class can route to one URL.
@main
struct OaaSFunctions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oaas-functions",
        abstract: "Serve the OaaS example functions over oprc.OprcFunction (h2c gRPC).",
        discussion: """
            Functions: \(ExampleFunction.allCases.map(\.rawValue).joined(separator: ", ")).
            Environment: HTTP_PORT, HTTP_HOST, ODGM_SERVICE, LOG_LEVEL, OAAS_FUNCTIONS (flags win).
            Prints "listening on <port>" to stderr once it serves.
            """
    )

    @Option(help: "Listen port; 0 picks a free one (default: HTTP_PORT, else 8080).")
    var port: Int?

    @Option(help: "Listen address, an IP literal (default: HTTP_HOST, else 0.0.0.0).")
    var host: String?

    @Option(help: "DataService endpoint host:port for object state (default: ODGM_SERVICE).")
    var odgm: String?

    @Option(help: "Comma-separated functions to serve (default: OAAS_FUNCTIONS, else all).")
    var functions: String?

    mutating func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let app: FunctionApp
        do {
            app = try makeApp(environment: environment)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        try await app.run { port in
            FileHandle.standardError.write(Data("listening on \(port)\n".utf8))
        }
    }

    private func makeApp(environment: [String: String]) throws -> FunctionApp {
        // A flag replaces its variable, so a bad value there does not matter when the flag is given.
        var overridden = environment
        if port != nil { overridden["HTTP_PORT"] = nil }
        if host != nil { overridden["HTTP_HOST"] = nil }
        if odgm != nil { overridden["ODGM_SERVICE"] = nil }
        var configuration = FunctionConfiguration()
        var problems: [String] = []
        do {
            configuration = try FunctionConfiguration.fromEnvironment(overridden)
        } catch {
            problems += error.problems
        }
        if let port {
            if (0...65535).contains(port) { configuration.port = port } else { problems.append("--port: \(port) is not 0...65535") }
        }
        if let host {
            if FunctionConfiguration.isIPAddress(host) {
                configuration.host = host
            } else {
                problems.append("--host: '\(host)' is not an IP address (for example 0.0.0.0, 127.0.0.1 or ::)")
            }
        }
        if let odgm {
            do {
                configuration.odgmService = try ServiceAddress(parsing: odgm)
            } catch {
                problems.append("--odgm: \(error.message)")
            }
        }
        let selection = functions ?? environment["OAAS_FUNCTIONS"].flatMap { $0.isEmpty ? nil : $0 }
        let selected: [ExampleFunction]
        do {
            selected = try ExampleFunction.parseList(selection)
        } catch {
            problems.append("\(functions == nil ? "OAAS_FUNCTIONS" : "--functions"): \(error.message)")
            selected = []
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }

        var app = FunctionApp(configuration: configuration)
        for function in selected { function.register(in: &app) }
        return app
    }
}
