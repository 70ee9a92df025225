import Foundation
import Logging
import OaaSCore
import OaaSProto
import ODGM
import Storage
import Synchronization

/// A data directory with one collection `svc` (2 partitions) and its function routes: `echo` (object
/// method), `hello` (stateless), `off` (disabled). Each `open()` is a fresh process's view of it.
final class AsyncHarness: Sendable {
    let path: String
    let clock = AsyncTestClock()
    private let registries = Mutex<[StorageRegistry]>([])

    init() {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-async-\(UUID().uuidString)")
    }

    /// Opens the node over the directory and builds its async invocations around `invoker`.
    func open(invoker: any Invoker, configure: (inout AsyncSettings) -> Void = { _ in }) throws -> (ODGMNode, AsyncInvocations) {
        var config = ODGMConfig()
        config.dataDir = path
        config.mapSizeMB = 64
        var collection = Oprc_CreateCollectionRequest()
        collection.name = "svc"
        collection.partitionCount = 2
        var echo = Oprc_FuncInvokeRoute()
        echo.url = "http://echo.invalid"
        var hello = Oprc_FuncInvokeRoute()
        hello.url = "http://hello.invalid"
        hello.stateless = true
        collection.invocations.fnRoutes = ["echo": echo, "hello": hello]
        collection.invocations.disabledFn = ["off"]
        config.collections = [collection]
        let storage = StorageRegistry()
        registries.withLock { $0.append(storage) }
        let node = try ODGMNode(config: config, storage: storage, logger: Logger(label: "test"))
        try node.start()
        var settings = AsyncSettings(config: config)
        settings.retryBackoff = .milliseconds(1)
        let clock = self.clock
        settings.nowMs = { clock.now }
        configure(&settings)
        return (node, AsyncInvocations(node: node, invoker: invoker, settings: settings, logger: Logger(label: "test")))
    }

    /// Closes every environment opened so far (a process exit).
    func closeAll() {
        registries.withLock { $0.forEach { $0.closeAll() } }
    }

    deinit {
        closeAll()
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A settable wall clock (ms since the epoch).
final class AsyncTestClock: Sendable {
    private let value = Mutex<UInt64>(1_700_000_000_000)
    var now: UInt64 { value.withLock { $0 } }
    func advance(seconds: UInt64) {
        value.withLock { $0 += seconds * 1000 }
    }
}

/// One call the fake runtime received.
struct ScriptedCall: Sendable {
    var fn: String
    var invocationID: String?
    var payload: String
    var hasDeadline: Bool
}

/// An `Invoker` whose behaviour is a script over (attempt number, call); it records every call.
final class ScriptedInvoker: Invoker {
    typealias Script = @Sendable (Int, ScriptedCall) async throws -> Oprc_InvocationResponse
    private let script: Script
    private let received = Mutex<[ScriptedCall]>([])

    init(_ script: @escaping Script = { _, call in fakeResponse("echo:\(call.payload)") }) {
        self.script = script
    }

    var calls: [ScriptedCall] { received.withLock { $0 } }

    func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await handle(fn: request.fnID, payload: request.payload, context: context)
    }

    func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await handle(fn: request.fnID, payload: request.payload, context: context)
    }

    private func handle(fn: String, payload: Data, context: CallContext) async throws -> Oprc_InvocationResponse {
        let call = ScriptedCall(fn: fn, invocationID: context.invocationID, payload: String(decoding: payload, as: UTF8.self),
                                hasDeadline: context.deadline != nil)
        let attempt = received.withLock { calls in
            calls.append(call)
            return calls.count - 1
        }
        return try await script(attempt, call)
    }
}

func fakeResponse(_ text: String, status: Oprc_ResponseStatus = .okay) -> Oprc_InvocationResponse {
    var response = Oprc_InvocationResponse()
    response.payload = Data(text.utf8)
    response.status = status
    return response
}

func submitObj(_ id: UInt64 = 7, idStr: String? = nil, fn: String = "echo", pid: UInt32 = 0, cls: String = "svc",
               payload: String = "hi", invocationID: String? = nil) -> Oaas_Invocation_SubmitRequest {
    var call = Oprc_ObjectInvocationRequest()
    call.clsID = cls
    call.partitionID = pid
    call.fnID = fn
    call.objectID = id
    if let idStr { call.objectIDStr = idStr }
    call.payload = Data(payload.utf8)
    var request = Oaas_Invocation_SubmitRequest()
    request.obj = call
    if let invocationID { request.invocationID = invocationID }
    return request
}

func submitFn(fn: String = "hello", pid: UInt32 = 0, cls: String = "svc", payload: String = "hi",
              invocationID: String? = nil) -> Oaas_Invocation_SubmitRequest {
    var call = Oprc_InvocationRequest()
    call.clsID = cls
    call.partitionID = pid
    call.fnID = fn
    call.payload = Data(payload.utf8)
    var request = Oaas_Invocation_SubmitRequest()
    request.fn = call
    if let invocationID { request.invocationID = invocationID }
    return request
}

func resultQuery(_ invocationID: String, fn: String = "echo", id: UInt64 = 7, idStr: String? = nil, pid: UInt32 = 0) -> Oaas_Invocation_GetResultRequest {
    var request = Oaas_Invocation_GetResultRequest()
    request.clsID = "svc"
    request.partitionID = pid
    request.fnID = fn
    request.invocationID = invocationID
    request.objectID = id
    if let idStr { request.objectIDStr = idStr }
    return request
}

/// Runs the executor while `body` runs, then stops it as a shutdown would.
@discardableResult
func withAsyncExecutor<T: Sendable>(_ invocations: AsyncInvocations, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await invocations.executor.run() }
    do {
        let result = try await body()
        task.cancel()
        _ = await task.result
        return result
    } catch {
        task.cancel()
        _ = await task.result
        throw error
    }
}

/// Polls GetResult until it reports `state` (a few ms apart, up to 10 s).
@discardableResult
func awaitAsyncState(_ invocations: AsyncInvocations, _ request: Oaas_Invocation_GetResultRequest,
                _ state: Oaas_Invocation_AsyncState = .done) async throws -> Oaas_Invocation_GetResultResponse {
    let deadline = ContinuousClock.now + .seconds(30)
    while true {
        let result = try await invocations.getResult(request, context: CallContext())
        if result.state == state || ContinuousClock.now > deadline { return result }
        try await Task.sleep(for: .milliseconds(5))
    }
}
