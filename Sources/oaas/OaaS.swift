import ArgumentParser
import OaaSCLI

/// The `oaas` command tree: roles (`serve`, `dev`) and the client commands.
@main
struct OaaS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oaas",
        abstract: "Object-as-a-Service: run platform roles, or talk to a running platform.",
        subcommands: [ServeCommand.self, DevCommand.self] + ClientCommands.all
    )

    /// Usage errors exit 2 (not ArgumentParser's 64), as every client command promises.
    static func main() async {
        await ClientCommands.main(root: OaaS.self)
    }
}
