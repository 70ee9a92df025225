import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSProto
import Synchronization
import Testing
@testable import OaaSCLI

/// What the fake gateway received, and the async results it will answer with.
final class InvocationLog: Sendable {
    struct State {
        var fnCalls: [Oprc_InvocationRequest] = []
        var objCalls: [Oprc_ObjectInvocationRequest] = []
        var submits: [Oaas_Invocation_SubmitRequest] = []
        var resultQueries: [Oaas_Invocation_GetResultRequest] = []
        /// Per invocation id, the answers of successive GetResult calls; the last one repeats.
        var results: [String: [Oaas_Invocation_GetResultResponse]] = [:]
        var generated = 0
    }

    private let state = Mutex(State())

    func with<T: Sendable>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }

    var snapshot: State { state.withLock { $0 } }

    /// True when no RPC reached the fake.
    var untouched: Bool {
        let s = snapshot
        return s.fnCalls.isEmpty && s.objCalls.isEmpty && s.submits.isEmpty && s.resultQueries.isEmpty
    }

    func script(_ id: String, _ answers: [Oaas_Invocation_GetResultResponse]) {
        with { $0.results[id] = answers }
    }
}

/// Builders for scripted answers.
enum Scripted {
    static func response(_ payload: Data, status: Oprc_ResponseStatus = .okay, headers: [String: String] = [:],
                         invocationID: String = "") -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        response.payload = payload
        response.status = status
        response.headers = headers
        response.invocationID = invocationID
        return response
    }

    static func state(_ state: Oaas_Invocation_AsyncState) -> Oaas_Invocation_GetResultResponse {
        var result = Oaas_Invocation_GetResultResponse()
        result.state = state
        return result
    }

    static func done(_ response: Oprc_InvocationResponse) -> Oaas_Invocation_GetResultResponse {
        var result = state(.done)
        result.response = response
        return result
    }

    /// The function behaviours, by fn id: `echo` returns the payload; `invalid`, `fail` and `crash`
    /// answer INVALID_REQUEST, APP_ERROR and SYSTEM_ERROR; `binary` returns non-UTF-8 bytes; `slow`
    /// outlasts short deadlines; anything else is NOT_FOUND, as ODGM answers an unknown function.
    static func run(fn: String, cls: String, payload: Data) async throws -> Oprc_InvocationResponse {
        switch fn {
        case "echo":
            return response(payload, headers: ["content-type": "text/plain", "x-trace": "t1"], invocationID: "inv-1")
        case "invalid":
            return response(Data("bad input\n".utf8), status: .invalidRequest)
        case "fail":
            return response(Data("boom".utf8), status: .appError, headers: ["grpc-status": "INTERNAL"])
        case "crash":
            return response(Data(), status: .systemError)
        case "binary":
            return response(Data([0xFF, 0xFE, 0x41]))
        case "slow":
            try await Task.sleep(for: .seconds(30))
            return response(Data("late".utf8))
        default:
            throw RPCError(code: .notFound, message: "function '\(fn)' not found in class '\(cls)'")
        }
    }
}

/// `oprc.OprcFunction` as the gateway serves it, scripted by fn id.
struct FakeFunctionService: Oprc_OprcFunction.SimpleServiceProtocol {
    let log: InvocationLog

    func invokeFn(request: Oprc_InvocationRequest, context: ServerContext) async throws -> Oprc_InvocationResponse {
        log.with { $0.fnCalls.append(request) }
        return try await Scripted.run(fn: request.fnID, cls: request.clsID, payload: request.payload)
    }

    func invokeObj(request: Oprc_ObjectInvocationRequest, context: ServerContext) async throws -> Oprc_InvocationResponse {
        log.with { $0.objCalls.append(request) }
        return try await Scripted.run(fn: request.fnID, cls: request.clsID, payload: request.payload)
    }

}

/// `oaas.invocation.AsyncInvocation` as the gateway serves it.
struct FakeAsyncService: Oaas_Invocation_AsyncInvocation.SimpleServiceProtocol {
    let log: InvocationLog

    /// Records the call and, like ODGM, runs it in the background: the first GetResult sees PENDING,
    /// later ones DONE with the echo of the payload.
    func submit(request: Oaas_Invocation_SubmitRequest, context: ServerContext) async throws -> Oaas_Invocation_SubmitResponse {
        let payload: Data
        switch request.call {
        case .fn(let call)?: payload = call.payload
        case .obj(let call)?: payload = call.payload
        case nil: throw RPCError(code: .invalidArgument, message: "call required")
        }
        let id = log.with { state -> String in
            state.submits.append(request)
            let id: String
            if request.hasInvocationID {
                id = request.invocationID
            } else {
                state.generated += 1
                id = "gen-\(state.generated)"
            }
            state.results[id] = [Scripted.state(.pending), Scripted.done(Scripted.response(payload, invocationID: id))]
            return id
        }
        var response = Oaas_Invocation_SubmitResponse()
        response.invocationID = id
        response.state = .pending
        return response
    }

    func getResult(request: Oaas_Invocation_GetResultRequest, context: ServerContext) async throws -> Oaas_Invocation_GetResultResponse {
        let answer = log.with { state -> Oaas_Invocation_GetResultResponse? in
            state.resultQueries.append(request)
            guard var answers = state.results[request.invocationID], let first = answers.first else { return nil }
            if answers.count > 1 {
                answers.removeFirst()
                state.results[request.invocationID] = answers
            }
            return first
        }
        guard let answer else {
            throw RPCError(code: .notFound, message: "invocation '\(request.invocationID)' not found")
        }
        return answer
    }
}

/// Runs `body` with the fake services on an ephemeral loopback port; `url` is what `-g` takes.
func withFakeInvocationGateway(_ body: @Sendable (_ url: String, _ log: InvocationLog) async throws -> Void) async throws {
    let log = InvocationLog()
    let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
    try await withGRPCServer(transport: transport, services: [FakeFunctionService(log: log), FakeAsyncService(log: log)]) { _ in
        let address = try await transport.listeningAddress
        let port = try #require(address.ipv4?.port)
        try await body("http://127.0.0.1:\(port)", log)
    }
}

private struct InvocationRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oaas", subcommands: ClientCommands.all)
}

/// Runs `oaas <arguments>` (an `invoke` or `result` command) in process like the executable does:
/// parse (usage errors exit 2), then run with `-g url` added, the built-in default context, a 10 ms
/// poll interval and `stdin` as standard input.
func oaasInvocation(_ arguments: [String], gateway url: String?, stdin: Data = Data(),
                    environment: [String: String] = [:]) async -> CLIRun {
    var env = ["OAAS_CONFIG_PATH": missingConfigPath, "OAAS_WAIT_INTERVAL_MS": "10"]
    env.merge(environment) { _, new in new }
    let full = arguments + (url.map { ["-g", $0] } ?? [])
    let parsed: any ParsableCommand
    do {
        parsed = try InvocationRoot.parseAsRoot(full)
    } catch {
        return CLIRun(code: ClientCommands.exitCode(for: error), out: "", err: InvocationRoot.fullMessage(for: error))
    }
    let output = CapturedOutput()
    let io = InvocationIO(output: output, environment: env, stdin: { stdin })
    let code: Int32
    switch parsed {
    case let invoke as InvokeCommand: code = await invoke.run(io: io)
    case let result as ResultCommand: code = await result.run(io: io)
    default: return CLIRun(code: -1, out: "", err: "not an invocation command: \(type(of: parsed))")
    }
    return CLIRun(code: code, out: output.text.out, err: output.text.err)
}
