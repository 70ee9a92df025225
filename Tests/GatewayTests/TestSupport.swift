import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import OaaSCore
import OaaSProto
import SwiftProtobuf
import Testing

/// A gateway router over a fake store, with metrics in a private backend.
struct GatewayHarness: Sendable {
    let store: FakeObjectStore
    let metrics: TestMetrics
    let config: GatewayConfig

    init(config: GatewayConfig = GatewayConfig(), store: FakeObjectStore = FakeObjectStore()) {
        self.store = store
        self.metrics = TestMetrics()
        self.config = config
    }

    /// Runs `test` against the router; `extra` adds routes after `register`, as the process does.
    func run(
        _ testing: TestingSetup = .router,
        extra: @Sendable (Router<BasicRequestContext>) -> Void = { _ in },
        _ test: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let router = Router()
        let gatewayStore = GatewayObjectStore(upstream: store, config: config, metricsFactory: metrics)
        GatewayRoutes(store: gatewayStore, config: config, logger: Logger(label: "gateway-test"), metricsFactory: metrics)
            .register(on: router)
        extra(router)
        let app = Application(router: router)
        try await app.test(testing) { client in try await test(client) }
    }
}

enum Path {
    static let users = "/api/class/users/0"
    static func object(_ id: String) -> String { "\(users)/objects/\(id)" }
    static func stringObject(_ id: String) -> String { "\(users)/objects-str/\(id)" }
}

extension TestClientProtocol {
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: Data? = nil) async throws -> TestResponse {
        try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
    }

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], json: String) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await send(method, uri, headers: headers, body: Data(json.utf8))
    }

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], proto message: some SwiftProtobuf.Message) async throws -> TestResponse {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "application/x-protobuf" }
        let bytes: [UInt8] = try message.serializedBytes()
        return try await send(method, uri, headers: headers, body: Data(bytes))
    }
}

extension TestResponse {
    var data: Data { Data(body.readableBytesView) }
    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }
    var contentType: String? { headers[.contentType] }
    var version: String? { headers[HTTPField.Name("x-oprc-object-version") ?? .via] }
    var valueType: String? { headers[HTTPField.Name("x-oprc-val-type") ?? .via] }

    func jsonObject() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: data)
        return try #require(value as? [String: Any], "body is not a JSON object: \(text)")
    }
}

/// Checks status, media type and the error envelope; returns the message.
@discardableResult
func expectError(_ response: TestResponse, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    #expect(response.status.code == status, "body: \(response.text)", sourceLocation: sourceLocation)
    #expect(response.contentType == "application/json", sourceLocation: sourceLocation)
    let body = try response.jsonObject()
    #expect(body.keys.sorted() == ["error"], sourceLocation: sourceLocation)
    let error = try #require(body["error"] as? [String: Any], sourceLocation: sourceLocation)
    #expect(error.keys.sorted() == ["code", "message"], sourceLocation: sourceLocation)
    #expect(error["code"] as? String == code, "body: \(response.text)", sourceLocation: sourceLocation)
    let message = try #require(error["message"] as? String, sourceLocation: sourceLocation)
    #expect(!message.isEmpty, sourceLocation: sourceLocation)
    return message
}

func headers(_ pairs: (String, String)...) -> HTTPFields {
    var fields = HTTPFields()
    for (name, value) in pairs {
        if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
    }
    return fields
}

func value(_ text: String, _ type: Oprc_ValType = .byte) -> Oprc_ValData {
    var value = Oprc_ValData()
    value.data = Data(text.utf8)
    value.type = type
    return value
}

func object(entries: [UInt32: String] = [:], strings: [String: String] = [:]) -> Oprc_ObjData {
    var object = Oprc_ObjData()
    object.entries = entries.mapValues { value($0) }
    object.entriesStr = strings.mapValues { value($0) }
    return object
}
