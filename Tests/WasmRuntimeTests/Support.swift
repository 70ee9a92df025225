import Foundation
import Logging
import ODGM
import OaaSCore
import OaaSProto
import Synchronization
import WasmRuntime

/// An in-memory `ObjectStore` with only the entry calls a guest uses. Class `broken` fails every
/// call with UNAVAILABLE; class `slow` never answers before the caller gives up.
actor FakeObjectStore: ObjectStore {
    struct EntryKey: Hashable, Sendable {
        var cls: String
        var partition: UInt32
        var object: String
        var entry: String
    }

    private(set) var entries: [EntryKey: Data] = [:]
    private(set) var triggerDepths: [Int] = []
    private(set) var invocationIDs: [String] = []
    private var version: UInt64 = 0

    static func objectName(id: UInt64, str: String?) -> String { str.map { "s:\($0)" } ?? "n:\(id)" }
    static func entryName(key: UInt32, str: String?) -> String { str.map { "s:\($0)" } ?? "n:\(key)" }

    func seed(cls: String = "shop", partition: UInt32 = 0, object: String, entry: String, _ text: String) {
        entries[EntryKey(cls: cls, partition: partition, object: object, entry: entry)] = Data(text.utf8)
    }

    func text(cls: String = "shop", partition: UInt32 = 0, object: String, entry: String) -> String? {
        entries[EntryKey(cls: cls, partition: partition, object: object, entry: entry)].map { String(decoding: $0, as: UTF8.self) }
    }

    private func record(_ context: CallContext, cls: String) async throws {
        triggerDepths.append(context.triggerDepth)
        invocationIDs.append(context.invocationID ?? "")
        if cls == "broken" { throw OaaSError(.unavailable, "store is down") }
        if cls == "slow" { try await Task.sleep(for: .seconds(30)) }
    }

    func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse {
        try await record(context, cls: request.clsID)
        let object = Self.objectName(id: request.objectID, str: request.hasObjectIDStr ? request.objectIDStr : nil)
        guard entries.keys.contains(where: { $0.cls == request.clsID && $0.partition == request.partitionID && $0.object == object }) else {
            throw OaaSError(.noObject, "object not found")
        }
        let key = EntryKey(cls: request.clsID, partition: request.partitionID, object: object,
                           entry: Self.entryName(key: request.key, str: request.hasKeyStr ? request.keyStr : nil))
        var response = Oprc_ValueResponse()
        if let data = entries[key] {
            response.value.data = data
        }
        response.objectVersion = version
        return response
    }

    func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64 {
        try await record(context, cls: request.clsID)
        let object = Self.objectName(id: request.objectID, str: request.hasObjectIDStr ? request.objectIDStr : nil)
        let key = EntryKey(cls: request.clsID, partition: UInt32(request.partitionID), object: object,
                           entry: Self.entryName(key: request.key, str: request.hasKeyStr ? request.keyStr : nil))
        entries[key] = request.value.data
        version += 1
        return version
    }

    func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64 {
        try await record(context, cls: request.clsID)
        let object = Self.objectName(id: request.objectID, str: request.hasObjectIDStr ? request.objectIDStr : nil)
        let key = EntryKey(cls: request.clsID, partition: request.partitionID, object: object,
                           entry: Self.entryName(key: request.key, str: request.hasKeyStr ? request.keyStr : nil))
        if entries.removeValue(forKey: key) != nil { version += 1 }
        return version
    }

    private func unsupported() -> OaaSError { OaaSError(.unimplemented, "not used by the wasm host") }
    func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse { throw unsupported() }
    func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64 { throw unsupported() }
    func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse { throw unsupported() }
    func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64 { throw unsupported() }
    func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64 { throw unsupported() }
    func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage { throw unsupported() }
    func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope] { throw unsupported() }
    func stats(context: CallContext) async throws -> Oprc_StatsResponse { throw unsupported() }
    func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse { throw unsupported() }
}

/// `file://` URL of an example module in `Examples/wasm`.
func exampleURL(_ name: String) -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return "file://" + root.appendingPathComponent("Examples/wasm/\(name).wat").path
}

/// Module files written for one test, removed afterwards.
final class ModuleDirectory: Sendable {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-wasm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `contents` as `name` and returns its `file://` URL.
    func write(_ name: String, _ contents: String) throws -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
        return "file://" + file
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

func wasmRoute(_ moduleURL: String, fuel: UInt64? = nil, stateless: Bool = true) -> Oprc_FuncInvokeRoute {
    var route = Oprc_FuncInvokeRoute()
    route.url = "wasm://fn"
    route.stateless = stateless
    route.wasmModuleURL = moduleURL
    if let fuel { route.wasmFuel = fuel }
    return route
}

func fnCall(_ fn: String = "fn", cls: String = "shop", partition: UInt32 = 0, payload: String = "",
            options: [String: String] = [:], context: CallContext = CallContext()) -> RuntimeCall {
    var request = Oprc_InvocationRequest()
    request.clsID = cls
    request.partitionID = partition
    request.fnID = fn
    request.payload = Data(payload.utf8)
    request.options = options
    return .prepared(.fn(request), context: context)
}

func objCall(_ fn: String = "fn", cls: String = "shop", partition: UInt32 = 0, id: UInt64 = 0, str: String? = nil,
             payload: String = "", context: CallContext = CallContext()) -> RuntimeCall {
    var request = Oprc_ObjectInvocationRequest()
    request.clsID = cls
    request.partitionID = partition
    request.fnID = fn
    request.objectID = id
    if let str { request.objectIDStr = str }
    request.payload = Data(payload.utf8)
    return .prepared(.obj(request), context: context)
}

func makeRunner(_ store: FakeObjectStore = FakeObjectStore(), settings: WasmRunnerSettings = WasmRunnerSettings()) -> WasmRunner {
    WasmRunner(objects: store, settings: settings, logger: Logger(label: "wasm-test"))
}

func text(_ response: Oprc_InvocationResponse) -> String {
    String(decoding: response.payload, as: UTF8.self)
}

/// The OaaSError a call threw, nil if it returned.
func thrownError(_ body: () async throws -> Void) async -> OaaSError? {
    do {
        try await body()
        return nil
    } catch {
        return OaaSError.from(error)
    }
}

/// Paths a test HTTP server was asked for, in order.
final class RequestLog: Sendable {
    private let paths = Mutex<[String]>([])

    func record(_ path: String) { paths.withLock { $0.append(path) } }

    func count(_ path: String) -> Int { paths.withLock { $0.filter { $0 == path }.count } }
}

/// Log records kept in memory, to check what the runner reports and with which metadata.
final class LogRecords: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    var all: [Record] { records.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "wasm-test") { _ in Handler(sink: self) }
        logger.logLevel = .debug
        return logger
    }

    private struct Handler: LogHandler {
        let sink: LogRecords
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }.mapValues { "\($0)" }
            let record = Record(level: event.level, message: "\(event.message)", metadata: fields)
            sink.records.withLock { $0.append(record) }
        }
    }
}
