import ArgumentParser
import Foundation

/// `oaas class …` (aliases `cls`, `c`; spec §15). Classes are read-only views of packages.
struct ClassCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "class",
        abstract: "List and show the classes of the applied packages.",
        subcommands: [ClassListCommand.self, ClassGetCommand.self, ClassDeleteCommand.self],
        defaultSubcommand: ClassListCommand.self,
        aliases: ["cls", "c"]
    )
}

/// `[FILTER] [--package P]` of the catalog lists.
struct CatalogFilter: ParsableArguments {
    @Argument(help: "Only ids containing this text.") var filter: String?
    @Option(name: .customLong("package"), help: ArgumentHelp("Only this package.", valueName: "P")) var package: String?

    var query: [(String, String)] {
        [("package", package), ("filter", filter)].compactMap { name, value in value.map { (name, $0) } }
    }
}

/// Prints a list, or one item as a one-row table.
private func show(_ items: [StructuredValue], single: Bool, table: ([StructuredValue]) -> String, _ session: PMSession) throws {
    if session.format == .table {
        session.out(table(items))
    } else {
        try session.emit(single ? items.first ?? .null : .array(items))
    }
}

struct ClassListCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List classes.", aliases: ["l", "ls"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @OptionGroup var selection: CatalogFilter

    func execute(_ session: PMSession) async throws {
        try show(try await session.client.list(["classes"], query: selection.query).items, single: false,
                 table: PMRender.classes, session)
    }

    func run() async throws { try await runInProcess() }
}

struct ClassGetCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one class.", aliases: ["g"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Qualified class id (package.Class).") var cls: String

    func execute(_ session: PMSession) async throws {
        try show([try await session.client.call(.get, ["classes", cls]).json()], single: true, table: PMRender.classes, session)
    }

    func run() async throws { try await runInProcess() }
}

/// There is no such operation: classes live in packages (PM answers 405 too). Exit 2 with a pointer.
struct ClassDeleteCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Classes are removed via their package.",
                                                    aliases: ["d", "rm"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(parsing: .allUnrecognized, help: .hidden) var ignored: [String] = []

    func execute(_ session: PMSession) async throws {
        throw CLIFailure.usage(
            "classes cannot be deleted on their own: they are removed via their package",
            hint: "drop the class from the package file and run 'oaas package apply FILE --overwrite', or 'oaas package delete NAME'")
    }

    func run() async throws { try await runInProcess() }
}

/// `oaas function …` (aliases `fn`, `f`; spec §15).
struct FunctionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "function",
        abstract: "List and show the functions of the applied packages.",
        subcommands: [FunctionListCommand.self, FunctionGetCommand.self],
        defaultSubcommand: FunctionListCommand.self,
        aliases: ["fn", "f"]
    )
}

struct FunctionListCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List functions.", aliases: ["l", "ls"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @OptionGroup var selection: CatalogFilter

    func execute(_ session: PMSession) async throws {
        try show(try await session.client.list(["functions"], query: selection.query).items, single: false,
                 table: PMRender.functions, session)
    }

    func run() async throws { try await runInProcess() }
}

struct FunctionGetCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one function.", aliases: ["g"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "package.function_key (e.g. shop.Cart.add).") var id: String

    func execute(_ session: PMSession) async throws {
        try show([try await session.client.call(.get, ["functions", id]).json()], single: true, table: PMRender.functions, session)
    }

    func run() async throws { try await runInProcess() }
}
