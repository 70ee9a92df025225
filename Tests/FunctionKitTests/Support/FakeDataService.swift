import Foundation
import GRPCCore
import OaaSProto

/// `oprc.DataService` over a ``FakeODGM``; writes answer `oaas-object-version` like ODGM does.
struct FakeDataService: Oprc_DataService.ServiceProtocol {
    let odgm: FakeODGM

    private func versioned<M>(_ message: M, _ version: UInt64) -> ServerResponse<M> {
        ServerResponse(message: message, metadata: ["oaas-object-version": "\(version)"])
    }

    private func response(_ key: String, _ stored: FakeODGM.Stored) -> Oprc_ObjectResponse {
        var response = Oprc_ObjectResponse()
        response.obj = stored.data
        response.objectVersion = stored.version
        return response
    }

    func get(request: ServerRequest<Oprc_SingleObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ObjectResponse> {
        let m = request.message
        let key = FakeODGM.key(m.clsID, m.partitionID, numeric: m.objectID, string: m.hasObjectIDStr ? m.objectIDStr : nil)
        try await odgm.record("Get", key, cls: m.clsID, partition: m.partitionID, metadata: request.metadata)
        let stored = try await odgm.live(key)
        return versioned(response(key, stored), stored.version)
    }

    func set(request: ServerRequest<Oprc_SetObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        let m = request.message
        let partition = UInt32(clamping: m.partitionID)
        let key = FakeODGM.key(m.clsID, partition, numeric: m.objectID, string: m.hasObjectIDStr ? m.objectIDStr : nil)
        try await odgm.record("Set", key, cls: m.clsID, partition: partition, metadata: request.metadata)
        let stored = try await odgm.mutate(key, create: true) { $0 = m.object }
        return versioned(Oprc_EmptyResponse(), stored.version)
    }

    func merge(request: ServerRequest<Oprc_SetObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ObjectResponse> {
        let m = request.message
        let partition = UInt32(clamping: m.partitionID)
        let key = FakeODGM.key(m.clsID, partition, numeric: m.objectID, string: m.hasObjectIDStr ? m.objectIDStr : nil)
        try await odgm.record("Merge", key, cls: m.clsID, partition: partition, metadata: request.metadata)
        let stored = try await odgm.mutate(key, create: true) { data in
            data.entries.merge(m.object.entries) { $1 }
            data.entriesStr.merge(m.object.entriesStr) { $1 }
        }
        return versioned(response(key, stored), stored.version)
    }

    func delete(request: ServerRequest<Oprc_SingleObjectRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        let m = request.message
        let key = FakeODGM.key(m.clsID, m.partitionID, numeric: m.objectID, string: m.hasObjectIDStr ? m.objectIDStr : nil)
        try await odgm.record("Delete", key, cls: m.clsID, partition: m.partitionID, metadata: request.metadata)
        try await odgm.remove(key)
        return ServerResponse(message: Oprc_EmptyResponse())
    }

    func getValue(request: ServerRequest<Oprc_SingleKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_ValueResponse> {
        let m = request.message
        let key = FakeODGM.key(m.clsID, m.partitionID, numeric: m.objectID, string: m.hasObjectIDStr ? m.objectIDStr : nil)
        try await odgm.record("GetValue", key, cls: m.clsID, partition: m.partitionID, metadata: request.metadata)
        let stored = try await odgm.live(key)
        var response = Oprc_ValueResponse()
        response.objectVersion = stored.version
        let value = m.hasKeyStr ? stored.data.entriesStr[m.keyStr] : stored.data.entries[m.key]
        if let value { response.value = value }
        response.key = m.hasKeyStr ? m.keyStr : String(m.key)
        return versioned(response, stored.version)
    }

    func setValue(request: ServerRequest<Oprc_SetKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        let m = request.message
        let partition = UInt32(clamping: m.partitionID)
        let key = FakeODGM.key(m.clsID, partition, numeric: m.objectID, string: m.hasObjectIDStr ? m.objectIDStr : nil)
        try await odgm.record("SetValue", key, cls: m.clsID, partition: partition, metadata: request.metadata)
        let stored = try await odgm.mutate(key, create: true) { data in
            if m.hasKeyStr { data.entriesStr[m.keyStr] = m.value } else { data.entries[m.key] = m.value }
        }
        return versioned(Oprc_EmptyResponse(), stored.version)
    }

    func deleteValue(request: ServerRequest<Oprc_SingleKeyRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        let m = request.message
        let key = FakeODGM.key(m.clsID, m.partitionID, numeric: m.objectID, string: m.hasObjectIDStr ? m.objectIDStr : nil)
        try await odgm.record("DeleteValue", key, cls: m.clsID, partition: m.partitionID, metadata: request.metadata)
        let current = try await odgm.live(key)
        let present = m.hasKeyStr ? current.data.entriesStr[m.keyStr] != nil : current.data.entries[m.key] != nil
        guard present else { return versioned(Oprc_EmptyResponse(), current.version) }
        let stored = try await odgm.mutate(key, create: false) { data in
            if m.hasKeyStr { data.entriesStr[m.keyStr] = nil } else { data.entries[m.key] = nil }
        }
        return versioned(Oprc_EmptyResponse(), stored.version)
    }

    func batchSetValues(request: ServerRequest<Oprc_BatchSetValuesRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_EmptyResponse> {
        let m = request.message
        let key = FakeODGM.key(m.clsID, m.partitionID, numeric: m.objectID, string: m.hasObjectIDStr ? m.objectIDStr : nil)
        try await odgm.record("BatchSetValues", key, cls: m.clsID, partition: m.partitionID, metadata: request.metadata)
        try await odgm.checkCAS(key, expected: m.hasExpectedObjectVersion ? m.expectedObjectVersion : nil)
        let hasSets = !m.values.isEmpty || !m.valuesNum.isEmpty
        let stored = try await odgm.mutate(key, create: hasSets) { data in
            data.entriesStr.merge(m.values) { $1 }
            data.entries.merge(m.valuesNum) { $1 }
            for deleted in m.deleteKeys { data.entriesStr[deleted] = nil }
            for deleted in m.deleteKeysNum { data.entries[deleted] = nil }
        }
        return versioned(Oprc_EmptyResponse(), stored.version)
    }

    func listValues(request: ServerRequest<Oprc_ListValuesRequest>, context: ServerContext) async throws -> StreamingServerResponse<Oprc_ValueEnvelope> {
        throw RPCError(code: .unimplemented, message: "not faked")
    }

    func listObjects(request: ServerRequest<Oprc_ListObjectsRequest>, context: ServerContext) async throws -> StreamingServerResponse<Oprc_ObjectMetaEnvelope> {
        throw RPCError(code: .unimplemented, message: "not faked")
    }

    func stats(request: ServerRequest<Oprc_StatsRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_StatsResponse> {
        throw RPCError(code: .unimplemented, message: "not faked")
    }

    func capabilities(request: ServerRequest<Oprc_CapabilitiesRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_CapabilitiesResponse> {
        throw RPCError(code: .unimplemented, message: "not faked")
    }
}
