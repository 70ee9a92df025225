import ArgumentParser
import Foundation
import OaaSCore

/// `oaas serve --role a,b`: the container entry point, one image for every role.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one or more platform roles in this process (configured from the environment).",
        discussion: "Roles: odgm, gateway, pm, crm (available); router (accepted, not available yet in this build)."
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
        if let missing = roles.first(where: { !$0.isAvailable }) {
            FileHandle.standardError.write(Data("oaas: role '\(missing.rawValue)' is not available yet in this build\n".utf8))
            throw ExitCode(1)
        }
        try await Launcher(mode: .serve(roles)).run()
    }
}

enum Role: String, CaseIterable, Sendable {
    case odgm, gateway, router, pm, crm

    var isAvailable: Bool { self != .router }
}
