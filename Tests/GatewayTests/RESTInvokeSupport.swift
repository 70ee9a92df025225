import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import OaaSCore
import OaaSProto
import Synchronization

/// One call an invoker double received.
struct InvokerCall: Sendable {
    var fn: Oprc_InvocationRequest?
    var obj: Oprc_ObjectInvocationRequest?
    var context: CallContext

    var payload: Data { fn?.payload ?? obj?.payload ?? Data() }
    var options: [String: String] { fn?.options ?? obj?.options ?? [:] }
}

/// An ``Invoker`` double: records every call and answers with `respond` (echo by default).
final class FakeInvoker: Invoker {
    typealias Responder = @Sendable (InvokerCall) async throws -> Oprc_InvocationResponse

    private let log = Mutex<[InvokerCall]>([])
    private let responder: Mutex<Responder>

    init(_ respond: @escaping Responder = FakeInvoker.echo) {
        responder = Mutex(respond)
    }

    var calls: [InvokerCall] { log.withLock { $0 } }
    var last: InvokerCall? { calls.last }

    func respond(_ respond: @escaping Responder) { responder.withLock { $0 = respond } }

    static let echo: Responder = { call in
        var response = Oprc_InvocationResponse()
        response.payload = call.payload
        return response
    }

    /// A response with the given parts.
    static func answer(_ status: Oprc_ResponseStatus, payload: String? = nil, headers: [String: String] = [:], id: String = "") -> Responder {
        { _ in
            var response = Oprc_InvocationResponse()
            response.status = status
            if let payload { response.payload = Data(payload.utf8) }
            response.headers = headers
            response.invocationID = id
            return response
        }
    }

    func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await handle(InvokerCall(fn: request, context: context))
    }

    func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse {
        try await handle(InvokerCall(obj: request, context: context))
    }

    private func handle(_ call: InvokerCall) async throws -> Oprc_InvocationResponse {
        log.withLock { $0.append(call) }
        let respond = responder.withLock { $0 }
        return try await respond(call)
    }
}

/// An ``AsyncInvoker`` double with scripted answers.
final class FakeAsyncInvoker: AsyncInvoker {
    private let submits = Mutex<[Oaas_Invocation_SubmitRequest]>([])
    private let queries = Mutex<[Oaas_Invocation_GetResultRequest]>([])
    /// The result of each GetResult; throws NO_INVOCATION when nil.
    let result = Mutex<Oaas_Invocation_GetResultResponse?>(nil)
    /// Thrown by GetResult instead of answering, when set.
    let resultError = Mutex<OaaSError?>(nil)

    var submitted: [Oaas_Invocation_SubmitRequest] { submits.withLock { $0 } }
    var asked: [Oaas_Invocation_GetResultRequest] { queries.withLock { $0 } }

    func submit(_ request: Oaas_Invocation_SubmitRequest, context: CallContext) async throws -> Oaas_Invocation_SubmitResponse {
        submits.withLock { $0.append(request) }
        var response = Oaas_Invocation_SubmitResponse()
        response.invocationID = request.hasInvocationID ? request.invocationID : "generated-id"
        response.state = .pending
        return response
    }

    func getResult(_ request: Oaas_Invocation_GetResultRequest, context: CallContext) async throws -> Oaas_Invocation_GetResultResponse {
        queries.withLock { $0.append(request) }
        if let error = resultError.withLock({ $0 }) { throw error }
        guard let result = result.withLock({ $0 }) else {
            throw OaaSError(.noInvocation, "invocation '\(request.invocationID)' not found")
        }
        return result
    }
}

/// A gateway router with invokers (doubles by default) and metrics in a private backend.
struct InvokeHarness: Sendable {
    let invoker: FakeInvoker
    let asyncInvoker: FakeAsyncInvoker
    let metrics = TestMetrics()
    let config: GatewayConfig

    init(config: GatewayConfig = GatewayConfig(), invoker: FakeInvoker = FakeInvoker(), asyncInvoker: FakeAsyncInvoker = FakeAsyncInvoker()) {
        self.config = config
        self.invoker = invoker
        self.asyncInvoker = asyncInvoker
    }

    func run(_ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router()
        GatewayRoutes(store: FakeObjectStore(), config: config, logger: Logger(label: "invoke-test"), metricsFactory: metrics,
                      invoker: invoker, asyncInvoker: asyncInvoker)
            .register(on: router)
        let app = Application(router: router)
        try await app.test(.router) { client in try await test(client) }
    }
}

extension TestResponse {
    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }
}
