import GRPCCore
import OaaSProto

/// Serves `oprc.DataService` over gRPC from any ``ObjectStore``: reads the call context from the
/// metadata, writes `oaas-object-version` into the initial metadata and turns ``OaaSError``s into
/// statuses that carry their REST code (spec §4.6).
public struct DataServiceAdapter: Oprc_DataService.ServiceProtocol {
    public let store: any ObjectStore

    public init(store: any ObjectStore) {
        self.store = store
    }

    public func get(request: ServerRequest<Oprc_SingleObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ObjectResponse> {
        try await unary(request) { message, ctx in
            let response = try await store.get(message, context: ctx)
            return (response, response.hasObjectVersion ? response.objectVersion : nil)
        }
    }

    public func set(request: ServerRequest<Oprc_SetObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        try await unary(request) { message, ctx in (Oprc_EmptyResponse(), try await store.set(message, context: ctx)) }
    }

    public func merge(request: ServerRequest<Oprc_SetObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ObjectResponse> {
        try await unary(request) { message, ctx in
            let response = try await store.merge(message, context: ctx)
            return (response, response.hasObjectVersion ? response.objectVersion : nil)
        }
    }

    public func delete(request: ServerRequest<Oprc_SingleObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        try await unary(request) { message, ctx in (Oprc_EmptyResponse(), try await store.delete(message, context: ctx)) }
    }

    public func getValue(request: ServerRequest<Oprc_SingleKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ValueResponse> {
        try await unary(request) { message, ctx in
            let response = try await store.getValue(message, context: ctx)
            return (response, response.hasObjectVersion ? response.objectVersion : nil)
        }
    }

    public func setValue(request: ServerRequest<Oprc_SetKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        try await unary(request) { message, ctx in (Oprc_EmptyResponse(), try await store.setValue(message, context: ctx)) }
    }

    public func deleteValue(request: ServerRequest<Oprc_SingleKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        try await unary(request) { message, ctx in (Oprc_EmptyResponse(), try await store.deleteValue(message, context: ctx)) }
    }

    public func batchSetValues(request: ServerRequest<Oprc_BatchSetValuesRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        try await unary(request) { message, ctx in (Oprc_EmptyResponse(), try await store.batchSetValues(message, context: ctx)) }
    }

    public func listValues(request: ServerRequest<Oprc_ListValuesRequest>, context: ServerContext) async throws -> StreamingServerResponse<Oprc_ValueEnvelope> {
        let page: ValuePage
        do {
            page = try await store.listValues(request.message, context: CallContext(metadata: request.metadata))
        } catch {
            throw OaaSError.from(error).rpcError
        }
        var metadata = Metadata()
        metadata.addString(String(page.version), forKey: MetadataKeys.objectVersion)
        return StreamingServerResponse(metadata: metadata) { writer in
            try await writer.write(contentsOf: page.entries)
            return [:]
        }
    }

    public func listObjects(request: ServerRequest<Oprc_ListObjectsRequest>, context: ServerContext) async throws -> StreamingServerResponse<Oprc_ObjectMetaEnvelope> {
        let page: [Oprc_ObjectMetaEnvelope]
        do {
            page = try await store.listObjects(request.message, context: CallContext(metadata: request.metadata))
        } catch {
            throw OaaSError.from(error).rpcError
        }
        return StreamingServerResponse { writer in
            try await writer.write(contentsOf: page)
            return [:]
        }
    }

    public func stats(request: ServerRequest<Oprc_StatsRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_StatsResponse> {
        try await unary(request) { _, ctx in (try await store.stats(context: ctx), nil) }
    }

    public func capabilities(request: ServerRequest<Oprc_CapabilitiesRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_CapabilitiesResponse> {
        try await unary(request) { _, ctx in (try await store.capabilities(context: ctx), nil) }
    }

    private func unary<Request: Sendable, Response: Sendable>(
        _ request: ServerRequest<Request>,
        _ body: (Request, CallContext) async throws -> (Response, UInt64?)
    ) async throws -> ServerResponse<Response> {
        do {
            let (response, version) = try await body(request.message, CallContext(metadata: request.metadata))
            var metadata = Metadata()
            if let version { metadata.addString(String(version), forKey: MetadataKeys.objectVersion) }
            return ServerResponse(message: response, metadata: metadata)
        } catch {
            throw OaaSError.from(error).rpcError
        }
    }
}

extension CallContext {
    /// Reads the data-plane metadata of an incoming call.
    public init(metadata: Metadata) {
        func first(_ key: String) -> String? {
            metadata[stringValues: key].first(where: { _ in true })
        }
        self.init(
            triggerDepth: first(MetadataKeys.triggerDepth).flatMap { Int($0) } ?? 0,
            traceparent: first(MetadataKeys.traceparent),
            tracestate: first(MetadataKeys.tracestate),
            deadline: nil,
            forwarded: first(MetadataKeys.forwarded) == "1",
            invocationID: first(MetadataKeys.invocationID)
        )
    }

    /// The metadata to send when passing this call on to another node.
    public var metadata: Metadata {
        var metadata = Metadata()
        if triggerDepth > 0 { metadata.addString(String(triggerDepth), forKey: MetadataKeys.triggerDepth) }
        if let traceparent { metadata.addString(traceparent, forKey: MetadataKeys.traceparent) }
        if let tracestate { metadata.addString(tracestate, forKey: MetadataKeys.tracestate) }
        if forwarded { metadata.addString("1", forKey: MetadataKeys.forwarded) }
        if let invocationID { metadata.addString(invocationID, forKey: MetadataKeys.invocationID) }
        return metadata
    }
}
