import ArgumentParser
import Foundation

/// `oaas context …` (alias `ctx`): the config file's contexts (spec §12.1–12.2).
struct ContextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context",
        abstract: "Manage CLI contexts (gateway, PM and router URLs, default class).",
        subcommands: [ContextSetCommand.self, ContextGetCommand.self, ContextSelectCommand.self],
        aliases: ["ctx"]
    )
}

/// Config edits, separate from file I/O so they are testable.
enum ContextEditing {
    struct Changes: Equatable, Sendable {
        var pmURL: String?
        var gatewayURL: String?
        /// An empty string clears the field.
        var defaultClass: String?
        /// An empty string clears the field.
        var routerURL: String?
    }

    /// `context set`: NAME (default: the current context) is created if new, and becomes current
    /// if no context is current. Returns the new config and the edited context's name.
    static func set(_ config: CLIConfig, name: String?, changes: Changes) -> (CLIConfig, String) {
        var config = config
        let target = name ?? config.currentName
        var settings = config.contexts[target] ?? ContextSettings()
        if let v = changes.pmURL { settings.pmURL = v }
        if let v = changes.gatewayURL { settings.gatewayURL = v }
        if let v = changes.defaultClass { settings.defaultClass = v.isEmpty ? nil : v }
        if let v = changes.routerURL { settings.routerURL = v.isEmpty ? nil : v }
        config.contexts[target] = settings
        if config.currentContext == nil {
            config.currentContext = target
        }
        return (config, target)
    }

    /// `context select`: an unknown name is exit 1.
    static func select(_ config: CLIConfig, name: String) throws(CLIFailure) -> CLIConfig {
        guard config.contexts[name] != nil else {
            throw CLIFailure.unknownContext(name, known: config.contexts.keys.sorted())
        }
        var config = config
        config.currentContext = name
        return config
    }

    static func structured(_ name: String, _ settings: ContextSettings) -> [(String, StructuredValue)] {
        var members: [(String, StructuredValue)] = [
            ("pm_url", .string(settings.pmURL)),
            ("gateway_url", .string(settings.gatewayURL)),
        ]
        if let v = settings.defaultClass { members.append(("default_class", .string(v))) }
        if let v = settings.routerURL { members.append(("router_url", .string(v))) }
        return members
    }

    /// Output of `context set`.
    static func renderUpdated(_ name: String, config: CLIConfig, format: OutputFormat) throws -> Data {
        let settings = config.contexts[name] ?? ContextSettings()
        let fields = structured(name, settings)
        switch format {
        case .table:
            var out = "ctx '\(name)' updated\n"
            for (key, value) in fields {
                if case .string(let s) = value { out += "  \(key): \(s)\n" }
            }
            return Data(out.utf8)
        case .json, .yaml:
            let value = StructuredValue.object(
                [("name", .string(name)), ("current", .bool(config.currentName == name))] + fields)
            return Data(try value.text(format).utf8)
        }
    }

    /// Output of `context get`: the whole config (YAML unless `-o` says otherwise).
    static func renderConfig(_ config: CLIConfig, format: OutputFormat) throws -> Data {
        let names = config.contexts.keys.sorted()
        switch format {
        case .table:
            let rows = names.compactMap { name -> [String]? in
                guard let s = config.contexts[name] else { return nil }
                return [config.currentName == name ? "*" : "", name, s.pmURL, s.gatewayURL,
                        s.defaultClass ?? "", s.routerURL ?? ""]
            }
            return Data(Render.table(header: ["CURRENT", "NAME", "PM_URL", "GATEWAY_URL", "DEFAULT_CLASS", "ROUTER_URL"],
                                     rows: rows).utf8)
        case .json, .yaml:
            let contexts = names.compactMap { name -> (String, StructuredValue)? in
                guard let s = config.contexts[name] else { return nil }
                return (name, .object(structured(name, s)))
            }
            let value = StructuredValue.object([
                ("current_context", config.currentContext.map { .string($0) } ?? .null),
                ("contexts", .object(contexts)),
            ])
            return Data(try value.text(format).utf8)
        }
    }
}

struct ContextSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Create or update a context (default: the current one).", aliases: ["s", "update"])

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Context name (default: the current context).") var name: String?
    @Option(name: .customLong("pm"), help: ArgumentHelp("Package manager URL.", valueName: "URL")) var pm: String?
    @Option(name: .customLong("gateway"), help: ArgumentHelp("Gateway URL.", valueName: "URL")) var gateway: String?
    @Option(name: .customLong("cls"), help: ArgumentHelp("Default class (empty clears it).", valueName: "C")) var cls: String?
    @Option(name: .customLong("router"), help: ArgumentHelp("Router URL (empty clears it).", valueName: "URL")) var router: String?

    func validate() throws {
        if let name, name.isEmpty { throw ValidationError("context NAME must not be empty") }
        if let gateway {
            do {
                _ = try GatewayEndpoint.parse(gateway)
            } catch .invalid(_, let reason) {
                throw ValidationError("invalid --gateway '\(gateway)': \(reason)")
            } catch .tlsUnsupported {
                // Stored as given; connecting to it reports that TLS is unsupported.
            }
        }
        if let pm, pm.isEmpty { throw ValidationError("--pm must not be empty") }
    }

    var changes: ContextEditing.Changes {
        ContextEditing.Changes(pmURL: pm, gatewayURL: gateway, defaultClass: cls, routerURL: router)
    }

    /// Loads, edits and saves; a malformed file fails in `load` and is left untouched.
    func execute(store: ConfigStore, format: OutputFormat) throws -> Data {
        let (config, target) = ContextEditing.set(try store.load(), name: name, changes: changes)
        try store.save(config)
        return try ContextEditing.renderUpdated(target, config: config, format: format)
    }

    func run() throws {
        try Terminal.runSync {
            Terminal.write(try execute(store: ConfigStore(path: ConfigStore.defaultPath()), format: global.format()))
        }
    }
}

struct ContextGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print the whole config (YAML by default).", aliases: ["g"])

    @OptionGroup var global: GlobalOptions

    func execute(store: ConfigStore, format: OutputFormat) throws -> Data {
        try ContextEditing.renderConfig(try store.load(), format: format)
    }

    func run() throws {
        try Terminal.runSync {
            Terminal.write(try execute(store: ConfigStore(path: ConfigStore.defaultPath()), format: global.format(default: .yaml)))
        }
    }
}

struct ContextSelectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "select", abstract: "Make a context the current one.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Context name.") var name: String

    func execute(store: ConfigStore, format: OutputFormat) throws -> Data {
        let config = try ContextEditing.select(try store.load(), name: name)
        try store.save(config)
        switch format {
        case .table:
            return Data("✓ current context: \(name)\n".utf8)
        case .json, .yaml:
            return Data(try StructuredValue.object([("current_context", .string(name))]).text(format).utf8)
        }
    }

    func run() throws {
        try Terminal.runSync {
            Terminal.write(try execute(store: ConfigStore(path: ConfigStore.defaultPath()), format: global.format()))
        }
    }
}
