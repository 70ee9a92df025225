import Foundation
import FunctionKit
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSProto
import Testing

typealias FunctionClient = Oprc_OprcFunction.Client<HTTP2ClientTransport.Posix>

let sampleTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/// A fake ODGM serving `oprc.DataService` on an ephemeral loopback port for the duration of `body`.
func withFakeODGM<T: Sendable>(_ body: (FakeODGM, ServiceAddress) async throws -> T) async throws -> T {
    let odgm = FakeODGM()
    let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
    return try await withGRPCServer(transport: transport, services: [FakeDataService(odgm: odgm)]) { _ in
        let port = try #require(try await transport.listeningAddress.ipv4?.port)
        return try await body(odgm, ServiceAddress(host: "127.0.0.1", port: port))
    }
}

/// A configuration for tests: loopback, an ephemeral port, quiet logs.
func testConfiguration(odgm: ServiceAddress?) -> FunctionConfiguration {
    FunctionConfiguration(host: "127.0.0.1", port: 0, odgmService: odgm, logLevel: .critical)
}

/// Runs `app` on an ephemeral loopback port and hands `body` a client for it, as ODGM would call it.
/// The server shuts down gracefully afterwards, and its `run()` must then return.
func withRunningApp<T: Sendable>(_ app: FunctionApp, _ body: (FunctionClient) async throws -> T) async throws -> T {
    let server = try app.makeServer()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let result: T
        do {
            let port = try await server.listeningPort
            result = try await withFunctionClient(port: port, body)
        } catch {
            server.beginGracefulShutdown()
            throw error
        }
        server.beginGracefulShutdown()
        try await group.waitForAll()
        return result
    }
}

/// A client of the function runtime at `port`.
func withFunctionClient<T: Sendable>(port: Int, _ body: (FunctionClient) async throws -> T) async throws -> T {
    let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
    return try await withGRPCClient(transport: transport) { client in
        try await body(Oprc_OprcFunction.Client(wrapping: client))
    }
}

/// The metadata ODGM sends with a trigger delivery at depth 2.
func invocationMetadata(depth: Int = 2, invocationID: String = "inv-42") -> Metadata {
    [
        "oaas-trigger-depth": "\(depth)",
        "traceparent": "\(sampleTraceparent)",
        "tracestate": "vendor=1",
        "oaas-invocation-id": "\(invocationID)",
    ]
}

func fnRequest(cls: String = "demo", fn: String, partition: UInt32 = 0, payload: String = "",
               options: [String: String] = [:]) -> Oprc_InvocationRequest {
    var request = Oprc_InvocationRequest()
    request.clsID = cls
    request.fnID = fn
    request.partitionID = partition
    request.payload = Data(payload.utf8)
    request.options = options
    return request
}

func objRequest(cls: String = "demo", fn: String, partition: UInt32 = 0, id: ObjectID, payload: String = "",
                options: [String: String] = [:]) -> Oprc_ObjectInvocationRequest {
    var request = Oprc_ObjectInvocationRequest()
    request.clsID = cls
    request.fnID = fn
    request.partitionID = partition
    switch id {
    case .numeric(let value): request.objectID = value
    case .string(let value): request.objectIDStr = value
    }
    request.payload = Data(payload.utf8)
    request.options = options
    return request
}

func callOptions(timeout: Duration? = nil) -> CallOptions {
    var options = CallOptions.defaults
    options.timeout = timeout
    return options
}

extension Oprc_InvocationResponse {
    var text: String { String(decoding: payload, as: UTF8.self) }

    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: payload)
    }
}

/// Collects what handlers observe, for the test to assert on afterwards.
actor Observations<Value: Sendable> {
    private(set) var values: [Value] = []
    func add(_ value: Value) { values.append(value) }
}
