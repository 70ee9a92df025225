import Foundation
import Yams

/// One named connection profile of the CLI config file (spec §12.1).
struct ContextSettings: Equatable, Sendable {
    static let defaultPMURL = "http://127.0.0.1:8080"
    static let defaultGatewayURL = "http://127.0.0.1:8081"

    // A field missing from the file takes the `oaas dev` default, so these are never absent.
    var pmURL: String = Self.defaultPMURL
    var gatewayURL: String = Self.defaultGatewayURL
    var defaultClass: String?
    var routerURL: String?
}

/// The context a command runs with, after `--context` and `current_context` were applied.
struct ResolvedContext: Equatable, Sendable {
    var name: String
    var settings: ContextSettings
}

/// The CLI config file: `current_context` and the named contexts (spec §12.1).
struct CLIConfig: Equatable, Sendable {
    static let defaultContextName = "default"

    var currentContext: String?
    var contexts: [String: ContextSettings]

    /// What a missing file means: one in-memory context `default`, current.
    static let implicit = CLIConfig(currentContext: defaultContextName, contexts: [defaultContextName: ContextSettings()])

    /// The name `context set` without NAME and every data command use.
    var currentName: String { currentContext ?? Self.defaultContextName }

    /// The context named by `--context`, else the current one.
    func resolve(named name: String?) throws(CLIFailure) -> ResolvedContext {
        if let name {
            guard let settings = contexts[name] else {
                throw CLIFailure.unknownContext(name, known: contexts.keys.sorted())
            }
            return ResolvedContext(name: name, settings: settings)
        }
        let current = currentName
        if let settings = contexts[current] {
            return ResolvedContext(name: current, settings: settings)
        }
        // No `default` context in the file: it still means the built-in defaults.
        if current == Self.defaultContextName {
            return ResolvedContext(name: current, settings: ContextSettings())
        }
        throw CLIFailure(code: "NOT_FOUND", message: "current context '\(current)' is not defined",
                         hint: "run 'oaas context select NAME' or 'oaas context set \(current)'")
    }
}

/// Reads and writes the config file. Only `context set` and `context select` call ``save(_:)``.
struct ConfigStore: Sendable {
    var path: String

    init(path: String) {
        self.path = path
    }

    /// `OAAS_CONFIG_PATH` if set and non-empty, else `~/.oaas/config.yml`.
    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let override = environment["OAAS_CONFIG_PATH"], !override.isEmpty {
            return override
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path
        return (home as NSString).appendingPathComponent(".oaas/config.yml")
    }

    /// The stored config; ``CLIConfig/implicit`` when the file does not exist.
    func load() throws(CLIFailure) -> CLIConfig {
        guard FileManager.default.fileExists(atPath: path) else { return .implicit }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CLIFailure(code: "INVALID_ARGUMENT", message: "cannot read config \(path): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw malformed("file is not valid UTF-8")
        }
        return try parse(text)
    }

    /// Parses config text; any structural problem names its line.
    func parse(_ text: String) throws(CLIFailure) -> CLIConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw malformed(Self.describe(error))
        } catch {
            throw malformed("\(error)")
        }
        guard let root, !Self.isNull(root) else {
            // An empty file holds no contexts: the built-in default applies.
            return CLIConfig(currentContext: nil, contexts: [:])
        }
        guard let mapping = root.mapping else {
            throw malformed(at: root, "expected a mapping at the top level")
        }
        var config = CLIConfig(currentContext: nil, contexts: [:])
        for (keyNode, value) in mapping {
            switch keyNode.string {
            case "current_context":
                config.currentContext = try optionalString(value, field: "current_context")
            case "contexts":
                if Self.isNull(value) { continue }
                guard let contexts = value.mapping else {
                    throw malformed(at: value, "'contexts' must be a mapping of context names")
                }
                for (nameNode, body) in contexts {
                    guard let name = nameNode.string, nameNode.scalar != nil, !name.isEmpty else {
                        throw malformed(at: nameNode, "context names must be non-empty strings")
                    }
                    config.contexts[name] = try settings(body, name: name)
                }
            default:
                // Unknown keys (the reference's `zenoh_peer`, `use_grpc`, …) are ignored.
                continue
            }
        }
        return config
    }

    /// Writes the config atomically (temp file + rename), creating the directory if needed.
    func save(_ config: CLIConfig) throws(CLIFailure) {
        let text: String
        do {
            text = try Yams.serialize(node: Self.node(for: config), width: -1, allowUnicode: true)
        } catch {
            throw CLIFailure(code: "INTERNAL", message: "cannot encode config: \(error)")
        }
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw CLIFailure(code: "INTERNAL", message: "cannot write config \(path): \(error.localizedDescription)")
        }
    }

    /// The YAML document of a config, in the file's snake_case schema.
    static func node(for config: CLIConfig) -> Node {
        var pairs: [(Node, Node)] = []
        if let current = config.currentContext {
            pairs.append((Node("current_context"), .scalar(current.represented())))
        }
        let contexts = config.contexts.keys.sorted().compactMap { name -> (Node, Node)? in
            guard let settings = config.contexts[name] else { return nil }
            return (.scalar(name.represented()), node(for: settings))
        }
        pairs.append((Node("contexts"), Node(contexts)))
        return Node(pairs)
    }

    static func node(for settings: ContextSettings) -> Node {
        var pairs: [(Node, Node)] = [
            (Node("pm_url"), .scalar(settings.pmURL.represented())),
            (Node("gateway_url"), .scalar(settings.gatewayURL.represented())),
        ]
        if let value = settings.defaultClass {
            pairs.append((Node("default_class"), .scalar(value.represented())))
        }
        if let value = settings.routerURL {
            pairs.append((Node("router_url"), .scalar(value.represented())))
        }
        return Node(pairs)
    }

    // MARK: - Parsing helpers

    private func settings(_ node: Node, name: String) throws(CLIFailure) -> ContextSettings {
        var settings = ContextSettings()
        if Self.isNull(node) { return settings }
        guard let mapping = node.mapping else {
            throw malformed(at: node, "context '\(name)' must be a mapping")
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            switch key {
            case "pm_url":
                if let v = try optionalString(value, field: key) { settings.pmURL = v }
            case "gateway_url":
                if let v = try optionalString(value, field: key) { settings.gatewayURL = v }
            case "default_class":
                settings.defaultClass = try optionalString(value, field: key)
            case "router_url":
                settings.routerURL = try optionalString(value, field: key)
            default:
                continue
            }
        }
        return settings
    }

    /// A scalar as text; `null`/`~`/empty means absent.
    private func optionalString(_ node: Node, field: String) throws(CLIFailure) -> String? {
        if Self.isNull(node) { return nil }
        guard let scalar = node.scalar else {
            throw malformed(at: node, "'\(field)' must be a string")
        }
        return scalar.string.isEmpty ? nil : scalar.string
    }

    private static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private func malformed(_ detail: String) -> CLIFailure {
        CLIFailure(code: "INVALID_ARGUMENT", message: "malformed config \(path): \(detail)",
                   hint: "fix or remove the file; it is never overwritten while malformed")
    }

    private func malformed(at node: Node, _ detail: String) -> CLIFailure {
        guard let mark = node.mark else { return malformed(detail) }
        return malformed("line \(mark.line), column \(mark.column): \(detail)")
    }

    /// A YAML syntax error as `line L, column C: problem`.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let during = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return "line \(mark.line), column \(mark.column): \(problem)\(during)"
        case let .duplicatedKeysInMapping(duplicates, context):
            return "line \(context.mark.line), column \(context.mark.column): duplicated key(s) \(duplicates.sorted().joined(separator: ", "))"
        default:
            return error.description
        }
    }
}
