import ArgumentParser
import Foundation
import OaaSCore
import OaaSProto

/// The global flags of `invoke` and `result`. Same as ``GlobalOptions`` except that `-o` means
/// `--object-id` on these commands (spec §12.1), so the format is `--output` only.
struct InvocationGlobalOptions: ParsableArguments {
    @Option(name: [.customShort("g"), .customLong("grpc-url")],
            help: ArgumentHelp("Gateway gRPC URL (default: the context's gateway_url).", valueName: "URL"))
    var grpcURL: String?

    @Option(name: .customLong("context"), help: ArgumentHelp("Config context to use (default: current_context).", valueName: "NAME"))
    var context: String?

    @Option(name: .customLong("output"), help: "Output format: table, json or yaml (default: table).")
    var output: OutputFormat?

    @Option(name: [.customShort("z"), .customLong("zenoh-peer"), .customLong("peer")], help: .hidden)
    var zenohPeer: String?

    func validate() throws {
        try common.validate()
    }

    var format: OutputFormat { output ?? .table }

    /// These flags as a ``GlobalOptions``, so context and gateway resolve exactly as for the other
    /// commands. Every stored option is assigned: an unparsed ArgumentParser option must never be read.
    var common: GlobalOptions {
        var options = GlobalOptions()
        options.grpcURL = grpcURL
        options.context = context
        options.output = output
        options.zenohPeer = zenohPeer
        return options
    }
}

/// `[-o/--object-id U64 | --object-id-str S]`: the object of an object call; none for a stateless one.
struct InvocationTargetOptions: ParsableArguments {
    @Option(name: [.customShort("o"), .customLong("object-id")],
            help: ArgumentHelp("Numeric object id (u64) for an object method.", valueName: "U64"))
    var objectID: UInt64?

    @Option(name: .customLong("object-id-str"), help: ArgumentHelp("String object id for an object method.", valueName: "S"))
    var objectIDStr: String?

    func validate() throws {
        _ = try target()
    }

    /// The object, or nil for a stateless call. Both ids, or a zero numeric id (which means unset on
    /// the wire, spec §1.1), are usage errors.
    func target() throws -> ObjectID? {
        switch (objectID, objectIDStr) {
        case (.some, .some):
            throw ValidationError("give either -o/--object-id or --object-id-str, not both")
        case (let id?, nil):
            guard id != 0 else { throw ValidationError("-o/--object-id must be non-zero (0 means unset)") }
            return .numeric(id)
        case (nil, let id?):
            guard !id.isEmpty else { throw ValidationError("--object-id-str must not be empty") }
            return .string(id)
        case (nil, nil):
            return nil
        }
    }
}

/// Argument rules shared by `invoke` and `result`.
enum InvocationArguments {
    /// The id rule of AsyncInvocation (spec §5.5): `[A-Za-z0-9_-]{1,64}`.
    static func checkInvocationID(_ id: String, argument: String) throws {
        if let problem = InvocationIDs.problem(id) { throw ValidationError("\(argument) '\(id)' \(problem)") }
    }

    static func checkFunctionID(_ fn: String) throws {
        if fn.isEmpty { throw ValidationError("<fn-id> must not be empty") }
    }

    /// `--timeout-ms`: a positive number of milliseconds, at most a year.
    static func timeout(milliseconds: UInt64) throws -> Duration {
        guard milliseconds > 0, milliseconds <= 365 * 24 * 3_600_000 else {
            throw ValidationError("--timeout-ms \(milliseconds) must be between 1 and \(365 * 24 * 3_600_000)")
        }
        return .milliseconds(Int64(milliseconds))
    }
}

/// Where `invoke` and `result` write and read: tests pass a capturing sink, their own environment
/// (config path, poll interval) and stdin.
struct InvocationIO: Sendable {
    var output: any CommandOutput
    var environment: [String: String]
    var stdin: @Sendable () -> Data

    /// The process: real stdout/stderr, environment and stdin.
    static var process: InvocationIO {
        InvocationIO(output: StandardOutput(), environment: ProcessInfo.processInfo.environment,
                     stdin: { FileHandle.standardInput.readDataToEndOfFile() })
    }

    /// The class and gateway, resolved before anything is read or sent: usage and config errors
    /// never reach the network.
    func setup(_ global: InvocationGlobalOptions, _ cls: ClassOption) throws -> DataCommandSetup {
        let options = global.common
        let context = try options.resolveContext(store: ConfigStore(path: ConfigStore.defaultPath(environment: environment)))
        let clsID = try cls.resolve(in: context)
        return DataCommandSetup(cls: clsID, endpoint: try options.gateway(in: context))
    }
}

/// `-p/--payload FILE|-`: the bytes of the call's payload.
enum PayloadSource: Equatable, Sendable {
    case none
    case stdin
    case file(String)

    init(_ argument: String?) {
        switch argument {
        case nil: self = .none
        case "-": self = .stdin
        case let path?: self = .file(path)
        }
    }

    /// Reads the payload; an unreadable file fails (exit 1) naming it, before anything is sent.
    func read(stdin: () -> Data) throws -> Data {
        switch self {
        case .none:
            return Data()
        case .stdin:
            return stdin()
        case .file(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CLIFailure(code: "NOT_FOUND", message: "payload file '\(path)' not found")
            }
            guard !isDirectory.boolValue else {
                throw CLIFailure(code: "INVALID_ARGUMENT", message: "payload file '\(path)' is a directory")
            }
            do {
                return try Data(contentsOf: URL(fileURLWithPath: path))
            } catch let error as CocoaError where error.code == .fileReadNoPermission {
                throw CLIFailure(code: "PERMISSION_DENIED", message: "cannot read payload file '\(path)': permission denied")
            } catch {
                throw CLIFailure(code: "INVALID_ARGUMENT", message: "cannot read payload file '\(path)': \(error.localizedDescription)")
            }
        }
    }
}

/// The request messages of the invocation RPCs.
enum InvocationRequests {
    static func fn(cls: String, partition: UInt32, fn: String, payload: Data, options: [KeyValue]) -> Oprc_InvocationRequest {
        var request = Oprc_InvocationRequest()
        request.clsID = cls
        request.partitionID = partition
        request.fnID = fn
        request.payload = payload
        request.options = optionMap(options)
        return request
    }

    static func object(cls: String, partition: UInt32, id: ObjectID, fn: String, payload: Data,
                       options: [KeyValue]) -> Oprc_ObjectInvocationRequest {
        var request = Oprc_ObjectInvocationRequest()
        request.clsID = cls
        request.partitionID = partition
        switch id {
        case .numeric(let n): request.objectID = n
        case .string(let s): request.objectIDStr = s
        }
        request.fnID = fn
        request.payload = payload
        request.options = optionMap(options)
        return request
    }

    static func getResult(cls: String, partition: UInt32, fn: String, invocationID: String,
                          id: ObjectID?) -> Oaas_Invocation_GetResultRequest {
        var request = Oaas_Invocation_GetResultRequest()
        request.clsID = cls
        request.partitionID = partition
        request.fnID = fn
        request.invocationID = invocationID
        switch id {
        case .numeric(let n)?: request.objectID = n
        case .string(let s)?: request.objectIDStr = s
        case nil: break
        }
        return request
    }

    /// Repeated `--opt` keys keep the last value, like repeated `-s` entries.
    private static func optionMap(_ options: [KeyValue]) -> [String: String] {
        var map: [String: String] = [:]
        for option in options { map[option.key] = option.value }
        return map
    }
}
