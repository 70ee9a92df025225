import GRPCCore
import OaaSProto

/// An ``ObjectStore`` on the other end of a gRPC connection (an ODGM node, or a gateway).
/// Statuses come back as ``OaaSError``s with the REST code the server attached.
public struct RemoteObjectStore<Transport: ClientTransport>: ObjectStore {
    public let client: Oprc_DataService.Client<Transport>

    public init(client: GRPCClient<Transport>) {
        self.client = Oprc_DataService.Client(wrapping: client)
    }

    public func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        try await call(context) { try await client.get(request, metadata: $0, options: $1) }
    }

    public func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64 {
        try await call(context) { metadata, options in
            try await client.set(request: ClientRequest(message: request, metadata: metadata), options: options) { try $0.versionAndMessage }
        }
    }

    public func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        try await call(context) { try await client.merge(request, metadata: $0, options: $1) }
    }

    public func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64 {
        try await call(context) { metadata, options in
            try await client.delete(request: ClientRequest(message: request, metadata: metadata), options: options) { try $0.versionAndMessage }
        }
    }

    public func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse {
        try await call(context) { try await client.getValue(request, metadata: $0, options: $1) }
    }

    public func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64 {
        try await call(context) { metadata, options in
            try await client.setValue(request: ClientRequest(message: request, metadata: metadata), options: options) { try $0.versionAndMessage }
        }
    }

    public func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64 {
        try await call(context) { metadata, options in
            try await client.deleteValue(request: ClientRequest(message: request, metadata: metadata), options: options) { try $0.versionAndMessage }
        }
    }

    public func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64 {
        try await call(context) { metadata, options in
            try await client.batchSetValues(request: ClientRequest(message: request, metadata: metadata), options: options) { try $0.versionAndMessage }
        }
    }

    public func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage {
        try await mapped {
            try await client.listValues(request: ClientRequest(message: request, metadata: context.metadata), options: context.callOptions) { response in
                let contents = try response.accepted.get()
                let version = contents.metadata[stringValues: MetadataKeys.objectVersion].first(where: { _ in true }).flatMap(UInt64.init) ?? 0
                var entries: [Oprc_ValueEnvelope] = []
                for try await part in contents.bodyParts {
                    if case .message(let envelope) = part { entries.append(envelope) }
                }
                return ValuePage(entries: entries, version: version)
            }
        }
    }

    public func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope] {
        try await mapped {
            try await client.listObjects(request: ClientRequest(message: request, metadata: context.metadata), options: context.callOptions) { response in
                var items: [Oprc_ObjectMetaEnvelope] = []
                for try await item in response.messages { items.append(item) }
                return items
            }
        }
    }

    public func stats(context: CallContext) async throws -> Oprc_StatsResponse {
        try await call(context) { try await client.stats(Oprc_StatsRequest(), metadata: $0, options: $1) }
    }

    public func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse {
        try await call(context) { try await client.capabilities(Oprc_CapabilitiesRequest(), metadata: $0, options: $1) }
    }

    private func call<T>(_ context: CallContext, _ body: (Metadata, CallOptions) async throws -> T) async throws -> T {
        try await mapped { try await body(context.metadata, context.callOptions) }
    }

    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RPCError {
            throw OaaSError(rpcError: error)
        }
    }
}

extension ClientResponse {
    /// The `oaas-object-version` a write returned (0 when the server sent none).
    var versionAndMessage: UInt64 {
        get throws {
            _ = try message
            return metadata[stringValues: MetadataKeys.objectVersion].first(where: { _ in true }).flatMap(UInt64.init) ?? 0
        }
    }
}

extension CallContext {
    /// Call options carrying the remaining deadline.
    public var callOptions: CallOptions {
        var options = CallOptions.defaults
        if let deadline {
            let remaining = deadline - ContinuousClock.now
            options.timeout = remaining > .zero ? remaining : .milliseconds(1)
        }
        return options
    }
}
