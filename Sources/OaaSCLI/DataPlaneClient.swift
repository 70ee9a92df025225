import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSCore
import OaaSProto

/// One ListValues page and the object version the server sent with it.
struct EntryPage: Sendable {
    var entries: [Oprc_ValueEnvelope]
    var version: UInt64?
}

/// The `oprc.DataService` calls the CLI makes. Commands take this instead of a gRPC client so
/// their logic runs against a fake in unit tests. Errors are `RPCError`s (or ``CLIFailure``s).
protocol DataPlaneClient: Sendable {
    /// Returns the version from `oaas-object-version` (nil if the server sent none).
    func set(_ request: Oprc_SetObjectRequest) async throws -> UInt64?
    /// `object_version` is filled from the response metadata when the message lacks it.
    func merge(_ request: Oprc_SetObjectRequest) async throws -> Oprc_ObjectResponse
    func get(_ request: Oprc_SingleObjectRequest) async throws -> Oprc_ObjectResponse
    func getValue(_ request: Oprc_SingleKeyRequest) async throws -> Oprc_ValueResponse
    func delete(_ request: Oprc_SingleObjectRequest) async throws -> UInt64?
    func listValues(_ request: Oprc_ListValuesRequest) async throws -> EntryPage
    func listObjects(_ request: Oprc_ListObjectsRequest) async throws -> [Oprc_ObjectMetaEnvelope]
    func stats() async throws -> Oprc_StatsResponse
    func capabilities() async throws -> Oprc_CapabilitiesResponse
}

/// ``DataPlaneClient`` over grpc-swift's generated `Oprc_DataService.Client`.
struct GRPCDataPlaneClient<Transport: ClientTransport>: DataPlaneClient {
    static var versionKey: String { MetadataKeys.objectVersion }

    let client: Oprc_DataService.Client<Transport>
    let options: CallOptions

    init(client: GRPCClient<Transport>, timeout: Duration) {
        self.client = Oprc_DataService.Client(wrapping: client)
        var options = CallOptions.defaults
        options.timeout = timeout
        // Fail fast when the gateway is down instead of queueing until the deadline.
        options.waitForReady = false
        self.options = options
    }

    func set(_ request: Oprc_SetObjectRequest) async throws -> UInt64? {
        try await client.set(request: ClientRequest(message: request), options: options) { response in
            _ = try response.message
            return Self.version(in: response.metadata)
        }
    }

    func merge(_ request: Oprc_SetObjectRequest) async throws -> Oprc_ObjectResponse {
        try await client.merge(request: ClientRequest(message: request), options: options) { response in
            Self.withVersion(try response.message, from: response.metadata)
        }
    }

    func get(_ request: Oprc_SingleObjectRequest) async throws -> Oprc_ObjectResponse {
        try await client.get(request: ClientRequest(message: request), options: options) { response in
            Self.withVersion(try response.message, from: response.metadata)
        }
    }

    func getValue(_ request: Oprc_SingleKeyRequest) async throws -> Oprc_ValueResponse {
        try await client.getValue(request: ClientRequest(message: request), options: options) { response in
            var message = try response.message
            if !message.hasObjectVersion, let version = Self.version(in: response.metadata) {
                message.objectVersion = version
            }
            return message
        }
    }

    func delete(_ request: Oprc_SingleObjectRequest) async throws -> UInt64? {
        try await client.delete(request: ClientRequest(message: request), options: options) { response in
            _ = try response.message
            return Self.version(in: response.metadata)
        }
    }

    func listValues(_ request: Oprc_ListValuesRequest) async throws -> EntryPage {
        try await client.listValues(request: ClientRequest(message: request), options: options) { response in
            let contents = try response.accepted.get()
            var entries: [Oprc_ValueEnvelope] = []
            for try await part in contents.bodyParts {
                if case .message(let envelope) = part { entries.append(envelope) }
            }
            return EntryPage(entries: entries, version: Self.version(in: contents.metadata))
        }
    }

    func listObjects(_ request: Oprc_ListObjectsRequest) async throws -> [Oprc_ObjectMetaEnvelope] {
        try await client.listObjects(request: ClientRequest(message: request), options: options) { response in
            var items: [Oprc_ObjectMetaEnvelope] = []
            for try await item in response.messages { items.append(item) }
            return items
        }
    }

    func stats() async throws -> Oprc_StatsResponse {
        try await client.stats(request: ClientRequest(message: Oprc_StatsRequest()), options: options) { try $0.message }
    }

    func capabilities() async throws -> Oprc_CapabilitiesResponse {
        try await client.capabilities(request: ClientRequest(message: Oprc_CapabilitiesRequest()), options: options) { try $0.message }
    }

    private static func version(in metadata: Metadata) -> UInt64? {
        for value in metadata[stringValues: versionKey] {
            if let version = UInt64(value) { return version }
        }
        return nil
    }

    private static func withVersion(_ message: Oprc_ObjectResponse, from metadata: Metadata) -> Oprc_ObjectResponse {
        var message = message
        if !message.hasObjectVersion, let version = version(in: metadata) {
            message.objectVersion = version
        }
        return message
    }
}

/// Opens a plaintext HTTP/2 connection to the gateway for the duration of `body`.
enum GatewayConnection {
    /// Deadline of every call (the gateway's own default is also 30 s).
    static let callTimeout: Duration = .seconds(30)

    static func with<Result: Sendable>(
        _ endpoint: GatewayEndpoint,
        _ body: (any DataPlaneClient) async throws -> Result
    ) async throws -> Result {
        try await withClient(endpoint) { grpc in
            try await body(GRPCDataPlaneClient(client: grpc, timeout: callTimeout))
        }
    }

    /// The raw gRPC client, for commands that call services other than DataService (e.g. invocation);
    /// connection failures are reported the same way as for ``with(_:_:)``.
    static func withClient<Result: Sendable>(
        _ endpoint: GatewayEndpoint,
        _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        do {
            let transport = try HTTP2ClientTransport.Posix(target: endpoint.target, transportSecurity: .plaintext)
            return try await withGRPCClient(transport: transport) { grpc in
                try await body(grpc)
            }
        } catch let error as RPCError where error.code == .unavailable && error.cause != nil {
            // A status the server sent has no cause; one with a cause is our own connection failing.
            throw unreachable(endpoint, detail: rootCause(of: error))
        } catch let error as RuntimeError {
            throw unreachable(endpoint, detail: error.message)
        }
    }

    private static func unreachable(_ endpoint: GatewayEndpoint, detail: String) -> CLIFailure {
        CLIFailure(code: "UNAVAILABLE", message: "cannot reach the gateway at \(endpoint): \(detail)",
                   hint: "is the gateway running? Set its URL with -g/--grpc-url or 'oaas context set --gateway URL'")
    }

    /// The innermost cause's text (e.g. "connection refused") rather than the channel's generic message.
    private static func rootCause(of error: RPCError) -> String {
        var detail = error.message
        var cause = error.cause
        var depth = 0
        while let current = cause, depth < 8 {
            if let rpc = current as? RPCError {
                detail = rpc.message
                cause = rpc.cause
            } else {
                detail = String(describing: current)
                cause = nil
            }
            depth += 1
        }
        // NIO's IOError text is "<reason>: <strerror>) (errno: N)"; the errno alone reads better.
        if let range = detail.range(of: "(errno: "),
           let errno = Int32(detail[range.upperBound...].prefix(while: \.isNumber)),
           let text = strerror(errno) {
            return String(cString: text)
        }
        return detail
    }
}
