import Foundation
import Logging
import ODGM
import OaaSCore
import OaaSProto
import Storage
import Synchronization
import Testing

/// Collects the change events a node publishes.
final class RecordingPublisher: ChangeEventPublisher, Sendable {
    private let received = Mutex<[Oaas_Router_ObjectChangeEvent]>([])

    var events: [Oaas_Router_ObjectChangeEvent] { received.withLock { $0 } }

    func publish(_ event: Oaas_Router_ObjectChangeEvent) {
        received.withLock { $0.append(event) }
    }
}

/// One trigger delivery as the fake runtime saw it.
struct DeliveredCall: Sendable {
    var fn: String
    var cls: String
    var partition: UInt32
    /// Nil for InvokeFn.
    var objectID: ObjectID?
    var options: [String: String]
    var payload: Data
    var context: CallContext

    var invocationID: String? { context.invocationID }

    /// The payload read as a JSON trigger payload (the default format).
    func jsonPayload() throws -> Oprc_TriggerPayload {
        try ProtoJSON.decode(Oprc_TriggerPayload.self, from: payload)
    }
}

/// An `Invoker` that records every call and answers by a script over (attempt number, call).
final class RecordingInvoker: Invoker, Sendable {
    typealias Script = @Sendable (Int, DeliveredCall) async throws -> Oprc_InvocationResponse
    private let script: Script
    private let received = Mutex<[DeliveredCall]>([])

    init(_ script: @escaping Script = { _, _ in fakeResponse("ok") }) {
        self.script = script
    }

    var calls: [DeliveredCall] { received.withLock { $0 } }

    func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await handle(DeliveredCall(fn: request.fnID, cls: request.clsID, partition: request.partitionID, objectID: nil,
                                       options: request.options, payload: request.payload, context: context))
    }

    func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        let id: ObjectID = request.hasObjectIDStr ? .string(request.objectIDStr) : .numeric(request.objectID)
        return try await handle(DeliveredCall(fn: request.fnID, cls: request.clsID, partition: request.partitionID, objectID: id,
                                              options: request.options, payload: request.payload, context: context))
    }

    private func handle(_ call: DeliveredCall) async throws -> Oprc_InvocationResponse {
        let attempt = received.withLock { calls in
            calls.append(call)
            return calls.count - 1
        }
        return try await script(attempt, call)
    }
}

/// A data directory with collection `cls` (2 partitions, `options`) and a recording publisher;
/// each `open()` is a fresh process's view of it.
final class EventHarness: Sendable {
    let path: String
    let publisher = RecordingPublisher()
    let metrics = InvocationTestMetrics()
    private let registries = Mutex<[StorageRegistry]>([])
    private let options: [String: String]
    private let configure: @Sendable (inout ODGMConfig) -> Void

    init(options: [String: String] = [:], configure: @escaping @Sendable (inout ODGMConfig) -> Void = { _ in }) {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-events-\(UUID().uuidString)")
        self.options = options
        self.configure = configure
    }

    func open(extra: [Oprc_CreateCollectionRequest] = []) throws -> (ODGMNode, ObjectService) {
        var config = ODGMConfig()
        config.dataDir = path
        config.mapSizeMB = 64
        config.triggerRetryBackoff = .milliseconds(1)
        var collection = Oprc_CreateCollectionRequest()
        collection.name = "cls"
        collection.partitionCount = 2
        collection.options = options
        config.collections = [collection] + extra
        configure(&config)
        let storage = StorageRegistry()
        registries.withLock { $0.append(storage) }
        let node = try ODGMNode(config: config, storage: storage, logger: Logger(label: "events-test"),
                                publisher: publisher, metricsFactory: metrics)
        try node.start()
        return (node, ObjectService(node: node, autoCreate: false, logger: Logger(label: "events-test")))
    }

    /// Closes every environment opened so far (a process exit).
    func closeAll() {
        registries.withLock { $0.forEach { $0.closeAll() } }
    }

    func count(_ label: String, _ dimensions: [(String, String)] = []) -> Int {
        metrics.count(label, dimensions)
    }

    func deliveries(_ outcome: String) -> Int {
        count("odgm_trigger_deliveries_total", [("outcome", outcome)])
    }

    deinit {
        closeAll()
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Runs a dispatcher for `node` while `body` runs, then stops it as a shutdown would.
@discardableResult
func withDispatcher<T: Sendable>(_ node: ODGMNode, _ invoker: any Invoker, _ body: (TriggerDispatcher) async throws -> T) async throws -> T {
    let dispatcher = TriggerDispatcher(node: node, invoker: invoker, logger: Logger(label: "dispatcher-test"))
    let task = Task { try await dispatcher.run() }
    defer { task.cancel() }
    let result = try await body(dispatcher)
    task.cancel()
    _ = await task.result
    return result
}

/// Polls `condition` every few ms until it holds; returns whether it did. The window is generous
/// because the whole test bundle shares two cores; a passing test returns within milliseconds.
@discardableResult
func eventually(_ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try condition()
}

/// Waits until the dispatcher has nothing pending and the invoker saw at least `calls` calls
/// (a failed requirement otherwise, so callers may index the first `calls` calls).
func drained(_ dispatcher: TriggerDispatcher, _ invoker: RecordingInvoker, calls: Int) async throws -> [DeliveredCall] {
    let done = try await eventually { try dispatcher.pendingCount() == 0 && invoker.calls.count >= calls }
    let seen = invoker.calls
    try #require(done && seen.count >= calls, "expected \(calls) deliveries, saw \(seen.count): \(seen.map(\.fn))")
    return seen
}

func target(_ fn: String, cls: String = "sink", partition: UInt32 = 0, objectID: UInt64? = nil, objectIDStr: String? = nil,
            options: [String: String] = [:]) -> Oprc_TriggerTarget {
    var target = Oprc_TriggerTarget()
    target.clsID = cls
    target.partitionID = partition
    target.fnID = fn
    if let objectID { target.objectID = objectID }
    if let objectIDStr { target.objectIDStr = objectIDStr }
    target.reqOptions = options
    return target
}

/// A data trigger whose targets are named `<action>-<name>` (e.g. `create-1`, `delete-s`).
func watching(_ name: String) -> Oprc_DataTrigger {
    var trigger = Oprc_DataTrigger()
    trigger.onCreate = [target("create-\(name)")]
    trigger.onUpdate = [target("update-\(name)")]
    trigger.onDelete = [target("delete-\(name)")]
    return trigger
}

/// A trigger config watching numeric keys `numeric` and string keys `strings` with ``watching(_:)``.
func triggers(numeric: [UInt32] = [], strings: [String] = []) -> Oprc_ObjectEvent {
    var event = Oprc_ObjectEvent()
    for key in numeric { event.dataTrigger[key] = watching(String(key)) }
    for key in strings { event.dataTriggerStr[key] = watching(key) }
    return event
}

/// A Set/Merge request with a trigger config.
func objectRequest(_ id: UInt64 = 0, str: String? = nil, num: [UInt32: String] = [:], strs: [String: String] = [:],
                   event: Oprc_ObjectEvent) -> Oprc_SetObjectRequest {
    var request = objectRequest(id, str: str, num: num, strs: strs)
    request.object.event = event
    return request
}

func batchRequest(_ id: UInt64 = 0, str: String? = nil, set: [String: String] = [:], setNum: [UInt32: String] = [:],
                  delete: [String] = [], deleteNum: [UInt32] = []) -> Oprc_BatchSetValuesRequest {
    var request = Oprc_BatchSetValuesRequest()
    request.clsID = "cls"
    request.objectID = id
    if let str { request.objectIDStr = str }
    request.values = set.mapValues { val($0) }
    request.valuesNum = setNum.mapValues { val($0) }
    request.deleteKeys = delete
    request.deleteKeysNum = deleteNum
    return request
}

/// `(key, action)` pairs of an event's changes, keys as `n:<k>` or `s:<k>`.
func summary(_ event: Oaas_Router_ObjectChangeEvent) -> [String] {
    event.changes.map { change in
        let key = change.hasKey ? "n:\(change.key)" : "s:\(change.keyStr)"
        let action = switch change.action {
        case .create: "create"
        case .update: "update"
        case .delete: "delete"
        default: "?"
        }
        return "\(key) \(action)"
    }
}
