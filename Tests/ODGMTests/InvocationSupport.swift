import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Metrics
import ODGM
import OaaSCore
import OaaSProto
import Synchronization
import Testing

/// What a fake runtime received: the request of either kind and its metadata.
struct ReceivedCall: Sendable {
    var fn: Oprc_InvocationRequest?
    var obj: Oprc_ObjectInvocationRequest?
    var metadata: [String: String]

    var options: [String: String] { fn?.options ?? obj?.options ?? [:] }
}

/// A function runtime on a real loopback gRPC server. Its behaviour depends on the fn_id:
/// `fail` answers a gRPC error, `slow…` sleeps 30 s (less if the RPC is cancelled), `headers` sets headers and a status,
/// `own-id` chooses its invocation id, `gated` waits for `openGate()`; anything else echoes.
final class FakeFunctionRuntime: Oprc_OprcFunction.ServiceProtocol, Sendable {
    private let received = Mutex<[ReceivedCall]>([])
    private let gate = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let gateOpen = Mutex(false)

    var calls: [ReceivedCall] { received.withLock { $0 } }
    var last: ReceivedCall? { calls.last }

    func invokeFn(request: ServerRequest<Oprc_InvocationRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_InvocationResponse> {
        record(ReceivedCall(fn: request.message, metadata: Self.flatten(request.metadata)))
        return ServerResponse(message: try await behave(fn: request.message.fnID, payload: request.message.payload, context: context))
    }

    func invokeObj(request: ServerRequest<Oprc_ObjectInvocationRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_InvocationResponse> {
        record(ReceivedCall(obj: request.message, metadata: Self.flatten(request.metadata)))
        return ServerResponse(message: try await behave(fn: request.message.fnID, payload: request.message.payload, context: context))
    }

    /// Releases every `gated` call, now and later.
    func openGate() {
        gateOpen.withLock { $0 = true }
        for waiter in gate.withLock({ list in defer { list.removeAll() }; return list }) { waiter.resume() }
    }

    private func behave(fn: String, payload: Data, context: ServerContext) async throws -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        switch fn {
        case "fail":
            throw RPCError(code: .failedPrecondition, message: "insufficient funds")
        case "slow", "slow-method":
            // grpc-swift cancels a server RPC through its handle, not the task: poll it, so the
            // server can stop soon after the caller gave up.
            let end = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < end, !context.cancellation.isCancelled {
                try await Task.sleep(for: .milliseconds(10))
            }
        case "headers":
            response.status = .appError
            response.headers = ["content-type": "text/plain", "x-custom": "1"]
        case "own-id":
            response.invocationID = "runtime-chosen"
        case "gated":
            await withCheckedContinuation { continuation in
                let open = gateOpen.withLock { open in
                    if !open { gate.withLock { $0.append(continuation) } }
                    return open
                }
                if open { continuation.resume() }
            }
        default:
            break
        }
        response.payload = payload
        return response
    }

    private func record(_ call: ReceivedCall) {
        received.withLock { $0.append(call) }
    }

    private static func flatten(_ metadata: Metadata) -> [String: String] {
        var flat: [String: String] = [:]
        for (key, value) in metadata {
            if case .string(let text) = value { flat[key] = text }
        }
        return flat
    }
}

/// Serves `services` on an ephemeral loopback port for the duration of `body`.
func withLoopbackServer(
    _ services: [any RegistrableRPCService],
    _ body: (Int) async throws -> Void
) async throws {
    let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
    try await withGRPCServer(transport: transport, services: services) { _ in
        let address = try await transport.listeningAddress
        let port = try #require(address.ipv4?.port)
        try await body(port)
    }
}

/// Runs a pool for the duration of `body`, then closes it and waits for its clients to stop.
func withRunningPool(_ body: (RuntimeClientPool) async throws -> Void) async throws {
    let pool = RuntimeClientPool(logger: Logger(label: "pool-test"))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await pool.run() }
        do {
            try await body(pool)
        } catch {
            pool.close()
            try await group.waitForAll()
            throw error
        }
        pool.close()
        try await group.waitForAll()
    }
}

/// A route of the test class `shop`.
func fnRoute(_ url: String, stateless: Bool = true, activeGroup: [UInt64] = [], standby: Bool = false) -> Oprc_FuncInvokeRoute {
    var route = Oprc_FuncInvokeRoute()
    route.url = url
    route.stateless = stateless
    route.activeGroup = activeGroup
    route.standby = standby
    return route
}

/// Class `shop` (2 partitions) whose functions run at `runtimeURL`: stateless `echo`, `fail`,
/// `slow`, `headers`, `own-id`, `gated`; object methods `touch` and `slow-method`; `wasm-fn` on WASM;
/// `nohost` with a URL without host; `down` on a closed port; `off` disabled without a route.
func shopCollection(runtimeURL: String, options: [String: String] = [:], extraRoutes: [String: Oprc_FuncInvokeRoute] = [:]) -> Oprc_CreateCollectionRequest {
    var request = Oprc_CreateCollectionRequest()
    request.name = "shop"
    request.partitionCount = 2
    request.options = options
    var routes: [String: Oprc_FuncInvokeRoute] = [:]
    for fn in ["echo", "fail", "slow", "headers", "own-id", "gated"] { routes[fn] = fnRoute(runtimeURL) }
    routes["touch"] = fnRoute(runtimeURL, stateless: false)
    routes["slow-method"] = fnRoute(runtimeURL, stateless: false)
    routes["wasm-fn"] = fnRoute("wasm://wasm-fn")
    routes["nohost"] = fnRoute("http://")
    routes["down"] = fnRoute("http://127.0.0.1:1")
    for (fn, route) in extraRoutes { routes[fn] = route }
    request.invocations.fnRoutes = routes
    request.invocations.disabledFn = ["off"]
    return request
}

/// An ODGM node with class `shop`, a running pool and a fake runtime, all torn down after `body`.
struct InvocationHarness: Sendable {
    let node: TestNode
    let invoker: FunctionInvoker
    let runtime: FakeFunctionRuntime
    let metrics: InvocationTestMetrics
    let pool: RuntimeClientPool
    let runtimeURL: String

    static func run(
        settings: InvocationSettings = InvocationSettings(),
        options: [String: String] = [:],
        extraRoutes: [String: Oprc_FuncInvokeRoute] = [:],
        observer: (any InvocationObserver)? = nil,
        _ body: (InvocationHarness) async throws -> Void
    ) async throws {
        let runtime = FakeFunctionRuntime()
        try await withLoopbackServer([runtime]) { port in
            let url = "http://127.0.0.1:\(port)"
            let node = try TestNode { config in
                config.collections.append(shopCollection(runtimeURL: url, options: options, extraRoutes: extraRoutes))
            }
            let metrics = InvocationTestMetrics()
            try await withRunningPool { pool in
                let invoker = FunctionInvoker(node: node.node, pool: pool, settings: settings, observer: observer,
                                              metricsFactory: metrics, logger: Logger(label: "invoke-test"))
                // Release gated calls even when the test fails, so the server can stop.
                defer { runtime.openGate() }
                try await body(InvocationHarness(node: node, invoker: invoker, runtime: runtime, metrics: metrics, pool: pool, runtimeURL: url))
            }
        }
    }
}

func fnCall(_ fn: String, cls: String = "shop", partition: UInt32 = 0, payload: String = "", options: [String: String] = [:]) -> Oprc_InvocationRequest {
    var request = Oprc_InvocationRequest()
    request.clsID = cls
    request.partitionID = partition
    request.fnID = fn
    request.payload = Data(payload.utf8)
    request.options = options
    return request
}

func objCall(_ fn: String, id: UInt64 = 0, str: String? = nil, cls: String = "shop", partition: UInt32 = 0, payload: String = "") -> Oprc_ObjectInvocationRequest {
    var request = Oprc_ObjectInvocationRequest()
    request.clsID = cls
    request.partitionID = partition
    request.fnID = fn
    request.objectID = id
    if let str { request.objectIDStr = str }
    request.payload = Data(payload.utf8)
    return request
}

func payloadText(_ response: Oprc_InvocationResponse) -> String {
    String(decoding: response.payload, as: UTF8.self)
}

/// The OaaSError code a call threw, nil if it succeeded.
func invocationError(_ body: () async throws -> Void) async -> OaaSError? {
    do {
        try await body()
        return nil
    } catch {
        return OaaSError.from(error)
    }
}

/// Counters and timer samples in memory, keyed `label{k=v,...}`, without touching the global
/// metrics system (other targets share the process).
final class InvocationTestMetrics: MetricsFactory, Sendable {
    private let values = Mutex<[String: Double]>([:])
    private let samples = Mutex<[String: [Int64]]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.isEmpty ? label : "\(label){\(dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ","))}"
    }

    func count(_ label: String, _ dimensions: [(String, String)]) -> Int {
        Int(values.withLock { $0[Self.key(label, dimensions)] ?? 0 })
    }

    func timerSamples(_ label: String, _ dimensions: [(String, String)]) -> [Int64] {
        samples.withLock { $0[Self.key(label, dimensions)] ?? [] }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handler(self, Self.key(label, dimensions)) }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { Handler(self, Self.key(label, dimensions)) }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { Handler(self, Self.key(label, dimensions)) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Handler(self, Self.key(label, dimensions)) }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handler(self, Self.key(label, dimensions)) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Handler: CounterHandler, FloatingPointCounterHandler, MeterHandler, RecorderHandler, TimerHandler, Sendable {
        let owner: InvocationTestMetrics
        let key: String

        init(_ owner: InvocationTestMetrics, _ key: String) {
            self.owner = owner
            self.key = key
        }

        func increment(by amount: Int64) { owner.values.withLock { $0[key, default: 0] += Double(amount) } }
        func increment(by amount: Double) { owner.values.withLock { $0[key, default: 0] += amount } }
        func decrement(by amount: Double) { owner.values.withLock { $0[key, default: 0] -= amount } }
        func reset() { owner.values.withLock { $0[key] = 0 } }
        func set(_ value: Int64) { owner.values.withLock { $0[key] = Double(value) } }
        func set(_ value: Double) { owner.values.withLock { $0[key] = value } }
        func record(_ value: Int64) { owner.values.withLock { $0[key] = Double(value) } }
        func record(_ value: Double) { owner.values.withLock { $0[key] = value } }
        func recordNanoseconds(_ duration: Int64) { owner.samples.withLock { $0[key, default: []].append(duration) } }
    }
}
