import ArgumentParser
import Foundation

/// `oaas dev`: every available role in one process with embedded defaults, for a laptop (control-plane spec §13).
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the platform on this machine: PM, a local CRM per env, gateway and ODGM in one process, data in ./.oaas/.",
        discussion: """
            Listeners: PM REST on --port (8080), gateway REST + gRPC on --gateway-port (8081). Packages in -c files are \
            applied at start like `oaas package apply -d`.
            """
    )

    @Option(name: [.customShort("c"), .customLong("config")], help: "Package/deployment file applied at start (repeatable).")
    var configFiles: [String] = []

    @Option(name: .long, help: "Comma-separated local env names; unknown target envs map to the first.")
    var envs: String = "local"

    @Option(name: [.short, .long], help: "PM listener (REST).")
    var port: Int = 8080

    @Option(name: .long, help: "Gateway listener (REST + gRPC).")
    var gatewayPort: Int = 8081

    @Option(name: .long, help: "Also run the router role on this port (off by default: one process needs no router).")
    var routerPort: Int?

    @Option(name: .long, help: "Address every listener binds.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Directory of all local data.")
    var dataDir: String = ".oaas"

    @Option(name: .long, help: "Route an endpoint function to URL instead of its endpoint_url: KEY=URL (repeatable).")
    var functionURL: [String] = []

    @Flag(name: .long, help: "Keep all data in memory (lost on exit).")
    var memory = false

    var envNames: [String] {
        envs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    var functionURLs: [String: String] {
        var result: [String: String] = [:]
        for item in functionURL {
            guard let equals = item.firstIndex(of: "=") else { continue }
            result[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return result
    }

    func validate() throws {
        for (flag, value) in [("--port", port), ("--gateway-port", gatewayPort), ("--router-port", routerPort ?? 1)]
        where !(1...65535).contains(value) {
            throw ValidationError("\(flag) must be 1...65535")
        }
        if let routerPort, routerPort == port || routerPort == gatewayPort {
            throw ValidationError("--router-port: port \(routerPort) is already used by another listener")
        }
        guard !envNames.isEmpty else { throw ValidationError("--envs needs at least one env name") }
        for name in envNames where name.range(of: "^[A-Za-z0-9_-]+$", options: .regularExpression) == nil {
            throw ValidationError("--envs: '\(name)' is not a valid env name ([A-Za-z0-9_-])")
        }
        for item in functionURL {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex,
                  let url = URL(string: String(item[item.index(after: equals)...])), ["http", "https"].contains(url.scheme ?? "")
            else { throw ValidationError("--function-url: '\(item)' is not KEY=http(s)://host:port") }
        }
    }

    func run() async throws {
        try await Launcher(mode: .dev(.init(
            gatewayPort: gatewayPort, pmPort: port, host: host, dataDir: dataDir, memory: memory, envs: envNames,
            configFiles: configFiles, functionURLs: functionURLs, routerPort: routerPort
        ))).run()
    }
}
