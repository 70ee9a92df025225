import ArgumentParser
import Foundation

/// `oaas dev`: every available role in one process with embedded defaults, for a laptop.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the platform on this machine: gateway and ODGM in one process, data in ./.oaas/."
    )

    @Option(name: .long, help: "Gateway listener (REST + gRPC).")
    var gatewayPort: Int = 8081

    @Option(name: .long, help: "Address every listener binds.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Directory of all local data.")
    var dataDir: String = ".oaas"

    @Flag(name: .long, help: "Keep all data in memory (lost on exit).")
    var memory = false

    func validate() throws {
        guard (1...65535).contains(gatewayPort) else { throw ValidationError("--gateway-port must be 1...65535") }
    }

    func run() async throws {
        try await Launcher(mode: .dev(.init(gatewayPort: gatewayPort, host: host, dataDir: dataDir, memory: memory))).run()
    }
}
