import ArgumentParser
import Foundation
import OaaSProto

/// Flags every client command accepts (spec §12.1).
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("g"), .customLong("grpc-url")],
            help: ArgumentHelp("Gateway gRPC URL (default: the context's gateway_url).", valueName: "URL"))
    var grpcURL: String?

    @Option(name: .customLong("context"), help: ArgumentHelp("Config context to use (default: current_context).", valueName: "NAME"))
    var context: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: table, json or yaml (default: table).")
    var output: OutputFormat?

    // The reference's Zenoh flags: accepted only to answer with a pointer to --grpc-url.
    @Option(name: [.customShort("z"), .customLong("zenoh-peer"), .customLong("peer")], help: .hidden)
    var zenohPeer: String?

    func validate() throws {
        if zenohPeer != nil {
            throw ValidationError("-z/--zenoh-peer and --peer are not supported: OaaS-Swift has no Zenoh.\nhint: use -g/--grpc-url URL to reach the gateway")
        }
    }

    /// `-o`, or `fallback` when it was not given.
    func format(default fallback: OutputFormat = .table) -> OutputFormat {
        output ?? fallback
    }

    /// `-o` combined with a command's `--json` alias; a contradiction is a usage error.
    func format(json: Bool) throws -> OutputFormat {
        guard json else { return format() }
        if let output, output != .json {
            throw ValidationError("--json conflicts with --output \(output.rawValue)")
        }
        return .json
    }

    /// The config file and the selected context (spec §12.1). A malformed file or an unknown
    /// `--context` fails with exit 1.
    func resolveContext(store: ConfigStore = ConfigStore(path: ConfigStore.defaultPath())) throws(CLIFailure) -> ResolvedContext {
        try store.load().resolve(named: context)
    }

    /// The gateway from `-g`, else from the context. A bad `-g` is a usage error (exit 2); a bad
    /// config value is exit 1; https is refused (TLS is not supported by this client).
    func gateway(in context: ResolvedContext) throws -> GatewayEndpoint {
        let raw = grpcURL ?? context.settings.gatewayURL
        do {
            return try GatewayEndpoint.parse(raw)
        } catch .tlsUnsupported(let url) {
            throw CLIFailure(code: "UNIMPLEMENTED", message: "TLS is not supported: cannot connect to '\(url)'",
                             hint: "use a plaintext http:// gateway URL")
        } catch .invalid(let url, let reason) {
            if grpcURL != nil {
                throw ValidationError("invalid -g/--grpc-url '\(url)': \(reason)")
            }
            throw CLIFailure(code: "INVALID_ARGUMENT",
                             message: "invalid gateway_url '\(url)' in context '\(context.name)': \(reason)")
        }
    }
}

/// `-c/--cls-id` of the object commands.
struct ClassOption: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("cls-id")],
            help: ArgumentHelp("Class (default: the context's default_class).", valueName: "CLS"))
    var clsID: String?

    /// `-c`, else the context's `default_class`, else a usage error naming both.
    func resolve(in context: ResolvedContext) throws -> String {
        if let clsID, !clsID.isEmpty { return clsID }
        if let fallback = context.settings.defaultClass, !fallback.isEmpty { return fallback }
        throw ValidationError("no class given: pass -c/--cls-id CLS or set default_class in context '\(context.name)' ('oaas context set --cls CLS')")
    }
}

/// A `K=V` argument, split at the first `=`.
struct KeyValue: Equatable, Sendable {
    var key: String
    var value: String

    static func parse(_ text: String, option: String) throws -> KeyValue {
        guard let eq = text.firstIndex(of: "=") else {
            throw ValidationError("\(option) expects K=V, got '\(text)'")
        }
        let key = String(text[..<eq])
        guard !key.isEmpty else {
            throw ValidationError("\(option) '\(text)': the key before '=' must not be empty")
        }
        return KeyValue(key: key, value: String(text[text.index(after: eq)...]))
    }
}

/// `-b K=V` (K a u32 key) and `-s K=V` (string key): the entries of a Set or Merge.
struct EntryOptions: ParsableArguments {
    @Option(name: [.customShort("b"), .customLong("byte-value")], parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Numeric-key entry K=V (K a u32); repeatable.", valueName: "K=V"),
            transform: EntryOptions.numericEntry)
    var byteValues: [NumericEntry] = []

    @Option(name: [.customShort("s"), .customLong("str")], parsing: .unconditionalSingleValue,
            help: ArgumentHelp("String-key entry K=V; repeatable.", valueName: "K=V"),
            transform: { try KeyValue.parse($0, option: "-s/--str") })
    var strValues: [KeyValue] = []

    struct NumericEntry: Equatable, Sendable {
        var key: UInt32
        var value: String
    }

    @Sendable static func numericEntry(_ text: String) throws -> NumericEntry {
        let pair = try KeyValue.parse(text, option: "-b/--byte-value")
        guard let key = UInt32(pair.key) else {
            throw ValidationError("-b/--byte-value '\(text)': key '\(pair.key)' is not a u32")
        }
        return NumericEntry(key: key, value: pair.value)
    }

    /// The entries as an ObjData; values are UTF-8 bytes of type BYTE. A repeated key keeps the last value.
    var objData: Oprc_ObjData {
        var obj = Oprc_ObjData()
        for entry in byteValues {
            obj.entries[entry.key] = Self.byteValue(entry.value)
        }
        for entry in strValues {
            obj.entriesStr[entry.key] = Self.byteValue(entry.value)
        }
        return obj
    }

    static func byteValue(_ text: String) -> Oprc_ValData {
        var value = Oprc_ValData()
        value.data = Data(text.utf8)
        value.type = .byte
        return value
    }
}

/// `--kind all|numeric|string`.
enum KindOption: String, CaseIterable, ExpressibleByArgument, Sendable {
    case all, numeric, string

    var entryKeyKind: Oprc_EntryKeyKind {
        switch self {
        case .all: .all
        case .numeric: .numeric
        case .string: .string
        }
    }

    var objectIDKind: Oprc_ObjectIdKind {
        switch self {
        case .all: .all
        case .numeric: .numeric
        case .string: .string
        }
    }
}
