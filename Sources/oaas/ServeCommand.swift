import ArgumentParser
import Foundation
import OaaSCore

/// `oaas serve --role a,b`: the container entry point, one image for every role.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one or more platform roles in this process (configured from the environment).",
        discussion: "Roles: odgm, gateway, router, pm, crm."
    )

    @Option(name: .long, help: "Comma-separated roles: odgm, gateway, router, pm, crm.")
    var role: String

    func run() async throws {
        var roles: [Role] = []
        for name in role.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
            guard let parsed = Role(rawValue: name) else {
                throw ValidationError("unknown role '\(name)'; expected odgm, gateway, router, pm or crm")
            }
            if !roles.contains(parsed) { roles.append(parsed) }
        }
        guard !roles.isEmpty else { throw ValidationError("--role needs at least one role") }
        try await Launcher(mode: .serve(roles)).run()
    }
}

enum Role: String, CaseIterable, Sendable {
    case odgm, gateway, router, pm, crm
}
