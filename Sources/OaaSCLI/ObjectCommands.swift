import ArgumentParser
import Foundation
import GRPCCore
import OaaSCore
import OaaSProto

/// `oaas object …` (spec §12.2).
struct ObjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "object",
        abstract: "Read and write objects through the gateway.",
        subcommands: [
            ObjectSetCommand.self, ObjectSetStrCommand.self, ObjectMergeCommand.self,
            ObjectGetCommand.self, ObjectGetStrCommand.self, ObjectGetStrKeyCommand.self,
            ObjectListStrCommand.self, ObjectDeleteCommand.self, ObjectListCommand.self,
            ObjectWatchCommand.self,
        ]
    )
}

/// What a data command needs before it connects: the class and the gateway. Resolving it first
/// means usage and config errors never reach the network.
struct DataCommandSetup: Sendable {
    var cls: String
    var endpoint: GatewayEndpoint

    static func resolve(_ global: GlobalOptions, _ cls: ClassOption) throws -> DataCommandSetup {
        let context = try global.resolveContext()
        let clsID = try cls.resolve(in: context)
        return DataCommandSetup(cls: clsID, endpoint: try global.gateway(in: context))
    }
}

/// Id rules shared by the object commands.
enum ObjectIDArguments {
    /// `(<ID> | --object-id-str ID)`: exactly one.
    static func exactlyOne(numeric: UInt64?, string: String?) throws -> ObjectID {
        switch (numeric, string) {
        case (let id?, nil): return .numeric(id)
        case (nil, let id?): return .string(id)
        case (.some, .some): throw ValidationError("give either <id> or --object-id-str, not both")
        case (nil, nil): throw ValidationError("missing object id: give <id> or --object-id-str ID")
        }
    }

    /// `[-k U32 | --key-str K]`: at most one.
    static func atMostOneKey(numeric: UInt32?, string: String?) throws -> EntryKey? {
        switch (numeric, string) {
        case (let key?, nil): return .numeric(key)
        case (nil, let key?): return .string(key)
        case (.some, .some): throw ValidationError("-k/--key and --key-str exclude each other")
        case (nil, nil): return nil
        }
    }

    /// Set and Merge carry the partition as int32 (a reference quirk), so larger values cannot be sent.
    static func checkInt32Partition(_ partition: UInt32) throws {
        if partition > UInt32(Int32.max) {
            throw ValidationError("partition \(partition) is out of range for Set/Merge (max \(Int32.max))")
        }
    }

    /// The id as the server will store it (ASCII-lowercased), for messages that echo it.
    static func displayed(_ id: ObjectID) -> ObjectID {
        if case .string(let s) = id {
            return .string(String(decoding: s.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self))
        }
        return id
    }
}

/// Request messages for each RPC.
enum Requests {
    static func setObject(cls: String, partition: UInt32, id: ObjectID, object: Oprc_ObjData) -> Oprc_SetObjectRequest {
        var request = Oprc_SetObjectRequest()
        request.clsID = cls
        request.partitionID = Int32(clamping: partition)
        switch id {
        case .numeric(let n): request.objectID = n
        case .string(let s): request.objectIDStr = s
        }
        request.object = object
        return request
    }

    static func single(cls: String, partition: UInt32, id: ObjectID) -> Oprc_SingleObjectRequest {
        var request = Oprc_SingleObjectRequest()
        request.clsID = cls
        request.partitionID = partition
        switch id {
        case .numeric(let n): request.objectID = n
        case .string(let s): request.objectIDStr = s
        }
        return request
    }

    static func key(cls: String, partition: UInt32, id: ObjectID, key: EntryKey) -> Oprc_SingleKeyRequest {
        var request = Oprc_SingleKeyRequest()
        request.clsID = cls
        request.partitionID = partition
        switch id {
        case .numeric(let n): request.objectID = n
        case .string(let s): request.objectIDStr = s
        }
        switch key {
        case .numeric(let k): request.key = k
        case .string(let k): request.keyStr = k
        }
        return request
    }

    static func listValues(cls: String, partition: UInt32, id: ObjectID, kind: KindOption, cursor: Data?) -> Oprc_ListValuesRequest {
        var request = Oprc_ListValuesRequest()
        request.clsID = cls
        request.partitionID = partition
        switch id {
        case .numeric(let n): request.objectID = n
        case .string(let s): request.objectIDStr = s
        }
        request.keyKind = kind.entryKeyKind
        request.limit = 1000
        if let cursor { request.cursor = cursor }
        return request
    }
}

/// Runs a data command: resolve class and gateway, connect, run `body`, write its output.
func runDataCommand(_ global: GlobalOptions, _ cls: ClassOption,
                    _ body: (any DataPlaneClient, String) async throws -> Data) async throws {
    try await Terminal.run {
        let setup = try DataCommandSetup.resolve(global, cls)
        let output = try await GatewayConnection.with(setup.endpoint) { client in
            try await body(client, setup.cls)
        }
        Terminal.write(output)
    }
}

// MARK: - set / setstr

/// Shared body of `set` and `setstr`.
func executeSet(client: any DataPlaneClient, address: ObjectAddress, entries: EntryOptions, format: OutputFormat) async throws -> Data {
    let request = Requests.setObject(cls: address.cls, partition: address.partition, id: address.id, object: entries.objData)
    do {
        let version = try await client.set(request)
        return try Render.written(
            ObjectAddress(cls: address.cls, partition: address.partition, id: ObjectIDArguments.displayed(address.id)),
            version: version, format: format)
    } catch let error as RPCError where error.code == .alreadyExists {
        throw CLIFailure(code: "ALREADY_EXISTS", message: error.message, hint: "use 'oaas object merge'")
    }
}

struct ObjectSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Replace a numeric-id object (upsert).", aliases: ["s"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Argument(help: "Numeric object id (u64).") var id: UInt64
    @OptionGroup var entries: EntryOptions

    func validate() throws {
        try ObjectIDArguments.checkInt32Partition(partition)
    }

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        try await executeSet(client: client, address: ObjectAddress(cls: cls, partition: partition, id: .numeric(id)),
                             entries: entries, format: format)
    }

    func run() async throws {
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: global.format()) }
    }
}

struct ObjectSetStrCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setstr", abstract: "Create a string-id object (create-only).", aliases: ["ss"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Option(name: .customLong("object-id-str"), help: ArgumentHelp("String object id.", valueName: "ID"))
    var objectIDStr: String
    @OptionGroup var entries: EntryOptions

    func validate() throws {
        try ObjectIDArguments.checkInt32Partition(partition)
    }

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        try await executeSet(client: client, address: ObjectAddress(cls: cls, partition: partition, id: .string(objectIDStr)),
                             entries: entries, format: format)
    }

    func run() async throws {
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: global.format()) }
    }
}

// MARK: - merge

struct ObjectMergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Create or update an object, keeping entries not given.", aliases: ["m"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Argument(help: "Numeric object id (u64); or use --object-id-str.") var id: UInt64?
    @Option(name: .customLong("object-id-str"), help: ArgumentHelp("String object id.", valueName: "ID"))
    var objectIDStr: String?
    @OptionGroup var entries: EntryOptions

    func validate() throws {
        try ObjectIDArguments.checkInt32Partition(partition)
        _ = try ObjectIDArguments.exactlyOne(numeric: id, string: objectIDStr)
    }

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        let objectID = try ObjectIDArguments.exactlyOne(numeric: id, string: objectIDStr)
        let request = Requests.setObject(cls: cls, partition: partition, id: objectID, object: entries.objData)
        return try Render.object(try await client.merge(request), format: format)
    }

    func run() async throws {
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: global.format()) }
    }
}

// MARK: - get / getstr / getstrkey

/// Shared body of the get commands: the whole object, or one entry when a key is given.
func executeGet(client: any DataPlaneClient, cls: String, partition: UInt32, id: ObjectID, key: EntryKey?,
                format: OutputFormat) async throws -> Data {
    guard let key else {
        return try Render.object(try await client.get(Requests.single(cls: cls, partition: partition, id: id)), format: format)
    }
    let response = try await client.getValue(Requests.key(cls: cls, partition: partition, id: id, key: key))
    return try Render.value(response, key: key, format: format)
}

struct ObjectGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print a numeric-id object, or one of its entries.", aliases: ["g"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Argument(help: "Numeric object id (u64).") var id: UInt64
    @Option(name: [.customShort("k"), .customLong("key")], help: "Numeric entry key (u32).") var key: UInt32?
    @Option(name: .customLong("key-str"), help: ArgumentHelp("String entry key.", valueName: "K")) var keyStr: String?

    func validate() throws {
        _ = try ObjectIDArguments.atMostOneKey(numeric: key, string: keyStr)
    }

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        try await executeGet(client: client, cls: cls, partition: partition, id: .numeric(id),
                             key: try ObjectIDArguments.atMostOneKey(numeric: key, string: keyStr), format: format)
    }

    func run() async throws {
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: global.format()) }
    }
}

struct ObjectGetStrCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "getstr", abstract: "Print a string-id object, or one of its entries.", aliases: ["gs"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Option(name: .customLong("object-id-str"), help: ArgumentHelp("String object id.", valueName: "ID"))
    var objectIDStr: String
    @Option(name: [.customShort("k"), .customLong("key")], help: "Numeric entry key (u32).") var key: UInt32?
    @Option(name: .customLong("key-str"), help: ArgumentHelp("String entry key.", valueName: "K")) var keyStr: String?

    func validate() throws {
        _ = try ObjectIDArguments.atMostOneKey(numeric: key, string: keyStr)
    }

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        try await executeGet(client: client, cls: cls, partition: partition, id: .string(objectIDStr),
                             key: try ObjectIDArguments.atMostOneKey(numeric: key, string: keyStr), format: format)
    }

    func run() async throws {
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: global.format()) }
    }
}

struct ObjectGetStrKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "getstrkey", abstract: "Print one string-key entry of a string-id object.", aliases: ["gsk"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Option(name: .customLong("object-id-str"), help: ArgumentHelp("String object id.", valueName: "ID"))
    var objectIDStr: String
    @Option(name: .customLong("key-str"), help: ArgumentHelp("String entry key.", valueName: "K")) var keyStr: String

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        try await executeGet(client: client, cls: cls, partition: partition, id: .string(objectIDStr),
                             key: .string(keyStr), format: format)
    }

    func run() async throws {
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: global.format()) }
    }
}

// MARK: - liststr

struct ObjectListStrCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liststr", abstract: "List the entries of an object (all pages).", aliases: ["lss", "list-str"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Argument(help: "Numeric object id (u64); or use --object-id-str.") var id: UInt64?
    @Option(name: .customLong("object-id-str"), help: ArgumentHelp("String object id.", valueName: "ID"))
    var objectIDStr: String?
    @Flag(name: .customLong("with-values"), help: "Print k=v instead of keys only.") var withValues = false
    @Option(name: .customLong("kind"), help: "Key kind: all, numeric or string.") var kind: KindOption = .all

    func validate() throws {
        _ = try ObjectIDArguments.exactlyOne(numeric: id, string: objectIDStr)
    }

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        let objectID = try ObjectIDArguments.exactlyOne(numeric: id, string: objectIDStr)
        var entries: [Oprc_ValueEnvelope] = []
        var version: UInt64?
        var cursor: Data?
        var seenCursors: Set<Data> = []
        while true {
            let request = Requests.listValues(cls: cls, partition: partition, id: objectID, kind: kind, cursor: cursor)
            let page = try await client.listValues(request)
            entries += page.entries
            version = page.version ?? page.entries.last?.version ?? version
            // A server must make progress; a repeated cursor would otherwise loop forever.
            guard let last = page.entries.last, last.hasNextCursor, seenCursors.insert(last.nextCursor).inserted else { break }
            cursor = last.nextCursor
        }
        return try Render.entries(entries, version: version, withValues: withValues, format: format)
    }

    func run() async throws {
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: global.format()) }
    }
}

// MARK: - delete

struct ObjectDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete an object.", aliases: ["del", "rm"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Argument(help: "Numeric object id (u64); or use --object-id-str.") var id: UInt64?
    @Option(name: .customLong("object-id-str"), help: ArgumentHelp("String object id.", valueName: "ID"))
    var objectIDStr: String?
    @Flag(name: .customLong("ignore-missing"), help: "Exit 0 when the object does not exist.") var ignoreMissing = false

    func validate() throws {
        _ = try ObjectIDArguments.exactlyOne(numeric: id, string: objectIDStr)
    }

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        let objectID = try ObjectIDArguments.exactlyOne(numeric: id, string: objectIDStr)
        let address = ObjectAddress(cls: cls, partition: partition, id: ObjectIDArguments.displayed(objectID))
        do {
            _ = try await client.delete(Requests.single(cls: cls, partition: partition, id: objectID))
            return try Render.deleted(address, found: true, format: format)
        } catch let error as RPCError where error.code == .notFound {
            // Only a missing object is ignorable; a missing class or partition is still an error.
            if ignoreMissing, OaaSError(rpcError: error).code == .noObject {
                return try Render.deleted(address, found: false, format: format)
            }
            throw CLIFailure(code: "NOT_FOUND", message: error.message,
                             hint: ignoreMissing ? nil : "pass --ignore-missing to accept an absent object")
        }
    }

    func run() async throws {
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: global.format()) }
    }
}

// MARK: - list

struct ObjectListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the objects of a partition.", aliases: ["l", "ls"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id.") var partition: UInt32
    @Option(name: [.customShort("f"), .customLong("prefix")], help: "String-id prefix.") var prefix: String?
    @Option(name: [.customShort("n"), .customLong("limit")], help: "Page size (server caps at 1000).") var limit: UInt32 = 100
    @Option(name: .customLong("cursor"), help: "Resume after this cursor (from a previous page).") var cursor: String?
    @Option(name: .customLong("kind"), help: "Id kind: all, numeric or string.") var kind: KindOption = .all
    @Flag(name: .customLong("all"), help: "Follow cursors until the last page.") var all = false
    @Flag(name: .customLong("json"), help: "Same as --output json.") var json = false

    func validate() throws {
        _ = try global.format(json: json)
        if let cursor, Cursor.decode(cursor) == nil {
            throw ValidationError("invalid --cursor '\(cursor)': expected base64url")
        }
    }

    func request(cursor: Data?) -> Oprc_ListObjectsRequest {
        var request = Oprc_ListObjectsRequest()
        request.partitionID = partition
        if let prefix { request.objectIDPrefix = prefix }
        request.limit = limit
        if let cursor { request.cursor = cursor }
        request.kind = kind.objectIDKind
        return request
    }

    func execute(client: any DataPlaneClient, cls: String, format: OutputFormat) async throws -> Data {
        var items: [Oprc_ObjectMetaEnvelope] = []
        var next: Data? = cursor.flatMap(Cursor.decode)
        var seenCursors: Set<Data> = []
        repeat {
            var pageRequest = request(cursor: next)
            pageRequest.clsID = cls
            let page = try await client.listObjects(pageRequest)
            items += page
            next = page.last.flatMap { $0.hasNextCursor ? $0.nextCursor : nil }
            if let current = next, !seenCursors.insert(current).inserted { break }
        } while all && next != nil
        return try Render.objectList(items, nextCursor: next, format: format)
    }

    func run() async throws {
        let format = try global.format(json: json)
        try await runDataCommand(global, cls) { try await execute(client: $0, cls: $1, format: format) }
    }
}
