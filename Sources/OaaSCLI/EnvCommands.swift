import ArgumentParser
import Foundation

/// `oaas env …` (aliases `environments`, `envs`, `clu`, `cl`; spec §15).
struct EnvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Show the envs (CRM clusters) PM deploys to and their health.",
        subcommands: [EnvListCommand.self, EnvHealthCommand.self],
        defaultSubcommand: EnvListCommand.self,
        aliases: ["environments", "envs", "clu", "cl"]
    )
}

struct EnvListCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List envs.", aliases: ["l", "ls"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Flag(name: .customLong("refresh"), help: "Ask every CRM now instead of using PM's health cache.") var refresh = false

    func execute(_ session: PMSession) async throws {
        let envs = try await session.client.list(["envs"], query: refresh ? [("refresh", "true")] : []).items
        if session.format == .table {
            session.out(PMRender.envs(envs))
        } else {
            try session.emit(.array(envs))
        }
    }

    func run() async throws { try await runInProcess() }
}

struct EnvHealthCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Show the health of every env, or of one.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Env name (default: all).") var name: String?
    @Flag(name: .customLong("refresh"), help: "Ask the CRM now instead of using PM's health cache.") var refresh = false

    func execute(_ session: PMSession) async throws {
        let query = refresh ? [("refresh", "true")] : []
        let items: [StructuredValue]
        if let name {
            items = [try await session.client.call(.get, ["envs", name, "health"], query: query).json()]
        } else {
            items = try await session.client.list(["envs", "health"], query: query).items
        }
        if session.format == .table {
            session.out(PMRender.envHealth(items))
        } else {
            try session.emit(name == nil ? .array(items) : items.first ?? .null)
        }
    }

    func run() async throws { try await runInProcess() }
}

/// `oaas class-runtimes …` (aliases `cr`, `runtimes`, `rts`; spec §15): the ClassRuntimes CRMs report.
struct ClassRuntimesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "class-runtimes",
        abstract: "Show the class runtimes (one per deployment and env) the CRMs report.",
        subcommands: [ClassRuntimesListCommand.self, ClassRuntimesGetCommand.self],
        defaultSubcommand: ClassRuntimesListCommand.self,
        aliases: ["cr", "runtimes", "rts"]
    )
}

struct ClassRuntimesListCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List class runtimes, or show one.", aliases: ["l", "ls"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Class runtime id (default: all).") var id: String?
    @Option(name: .customLong("env"), help: ArgumentHelp("Only this env.", valueName: "E")) var env: String?
    @Option(name: .customLong("status"), help: ArgumentHelp("Only this status (Running, DOWN, Progressing, …).", valueName: "S"))
    var status: String?
    @Option(name: .customLong("package"), help: ArgumentHelp("Only this package.", valueName: "P")) var package: String?
    @Option(name: .customLong("class"), help: ArgumentHelp("Only this class (qualified or not).", valueName: "C")) var classKey: String?

    func validate() throws {
        if id != nil, status != nil || package != nil || classKey != nil {
            throw ValidationError("--status, --package and --class filter lists; with an ID only --env applies")
        }
    }

    var query: [(String, String)] {
        [("env", env), ("status", status), ("package_name", package), ("class_key", classKey)]
            .compactMap { name, value in value.map { (name, $0) } }
    }

    func execute(_ session: PMSession) async throws {
        if let id {
            try await ClassRuntimesGetCommand.show(id: id, env: env, session)
            return
        }
        let (items, response) = try await session.client.list(["class-runtimes"], query: query)
        if let partial = response.header("x-partial-envs"), !partial.isEmpty {
            session.warn(["no answer from env(s) \(partial); the list may be incomplete"])
        }
        if session.format == .table {
            session.out(PMRender.classRuntimes(items))
        } else {
            try session.emit(.array(items))
        }
    }

    func run() async throws { try await runInProcess() }
}

struct ClassRuntimesGetCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one class runtime.", aliases: ["g"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Class runtime id.") var id: String
    @Option(name: .customLong("env"), help: ArgumentHelp("Look only in this env (default: every env).", valueName: "E")) var env: String?

    static func show(id: String, env: String?, _ session: PMSession) async throws {
        let runtime = try await session.client.call(.get, ["class-runtimes", id], query: env.map { [("env", $0)] } ?? []).json()
        if session.format == .table {
            session.out(PMRender.classRuntimes([runtime]))
        } else {
            try session.emit(runtime)
        }
    }

    func execute(_ session: PMSession) async throws {
        try await Self.show(id: id, env: env, session)
    }

    func run() async throws { try await runInProcess() }
}
