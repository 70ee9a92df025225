import ArgumentParser
import Foundation

/// Runs a command that needs the gateway but no class.
func runGatewayCommand(_ global: GlobalOptions, _ body: (any DataPlaneClient) async throws -> Data) async throws {
    try await Terminal.run {
        let endpoint = try global.gateway(in: try global.resolveContext())
        let output = try await GatewayConnection.with(endpoint) { client in try await body(client) }
        Terminal.write(output)
    }
}

/// `oaas capabilities` (spec §4.5, §12.2).
struct CapabilitiesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capabilities", abstract: "Show what the data plane supports.", aliases: ["caps", "cap", "features"])

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("json"), help: "Same as --output json.") var json = false

    func validate() throws {
        _ = try global.format(json: json)
    }

    func execute(client: any DataPlaneClient, format: OutputFormat) async throws -> Data {
        try Render.capabilities(try await client.capabilities(), format: format)
    }

    func run() async throws {
        let format = try global.format(json: json)
        try await runGatewayCommand(global) { try await execute(client: $0, format: format) }
    }
}

/// `oaas stats`: live object counts per shard.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show object counts per shard.")

    @OptionGroup var global: GlobalOptions

    func execute(client: any DataPlaneClient, format: OutputFormat) async throws -> Data {
        try Render.stats(try await client.stats(), format: format)
    }

    func run() async throws {
        try await runGatewayCommand(global) { try await execute(client: $0, format: global.format()) }
    }
}
