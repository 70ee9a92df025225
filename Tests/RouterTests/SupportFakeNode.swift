import Foundation
import GRPCCore
import OaaSCore
import OaaSProto
import Synchronization

/// The data side of a fake ODGM node: object 7 of any class exists and carries the node's name under key `node`;
/// the rest of DataService is not needed by the router tests.
final class FakeStore: ObjectStore {
    let name: String
    private let calls = Mutex<[(method: String, partition: UInt32, traceparent: String?)]>([])

    init(name: String) {
        self.name = name
    }

    var seen: [(method: String, partition: UInt32, traceparent: String?)] { calls.withLock { $0 } }

    func get(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse {
        calls.withLock { $0.append(("Get", request.partitionID, context.traceparent)) }
        guard request.objectID == 7 else { throw OaaSError(.noObject, "object not found") }
        var response = Oprc_ObjectResponse()
        response.obj.metadata.clsID = request.clsID
        response.obj.metadata.partitionID = request.partitionID
        response.obj.metadata.objectID = 7
        var value = Oprc_ValData()
        value.data = Data(name.utf8)
        response.obj.entriesStr["node"] = value
        response.objectVersion = 3
        return response
    }

    private var unsupported: OaaSError { OaaSError(.unimplemented, "fake node") }
    func set(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> UInt64 {
        calls.withLock { $0.append(("Set", UInt32(max(0, request.partitionID)), context.traceparent)) }
        return 9
    }
    func merge(_ request: Oprc_SetObjectRequest, context: CallContext) async throws -> Oprc_ObjectResponse { throw unsupported }
    func delete(_ request: Oprc_SingleObjectRequest, context: CallContext) async throws -> UInt64 { throw unsupported }
    func getValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> Oprc_ValueResponse { throw unsupported }
    func setValue(_ request: Oprc_SetKeyRequest, context: CallContext) async throws -> UInt64 { throw unsupported }
    func deleteValue(_ request: Oprc_SingleKeyRequest, context: CallContext) async throws -> UInt64 { throw unsupported }
    func batchSetValues(_ request: Oprc_BatchSetValuesRequest, context: CallContext) async throws -> UInt64 { throw unsupported }
    func listValues(_ request: Oprc_ListValuesRequest, context: CallContext) async throws -> ValuePage { throw unsupported }
    func listObjects(_ request: Oprc_ListObjectsRequest, context: CallContext) async throws -> [Oprc_ObjectMetaEnvelope] { throw unsupported }
    func stats(context: CallContext) async throws -> Oprc_StatsResponse { throw unsupported }
    func capabilities(context: CallContext) async throws -> Oprc_CapabilitiesResponse {
        var response = Oprc_CapabilitiesResponse()
        response.stringIds = true
        return response
    }
}

/// The function side of a fake ODGM node: echoes the payload, naming the node and partition in the headers.
struct FakeFunctions: Oprc_OprcFunction.SimpleServiceProtocol {
    let name: String

    func invokeFn(request: Oprc_InvocationRequest, context: ServerContext) async throws -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        response.payload = request.payload
        response.headers = ["node": name, "partition": String(request.partitionID), "fn": request.fnID]
        return response
    }

    func invokeObj(request: Oprc_ObjectInvocationRequest, context: ServerContext) async throws -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        response.payload = request.payload
        response.headers = ["node": name, "partition": String(request.partitionID), "object": String(request.objectID)]
        return response
    }
}

/// Serves a fake ODGM node named `name` for the duration of `body`, passing its address and store.
func withFakeNode<T: Sendable>(_ name: String, _ body: (String, FakeStore) async throws -> T) async throws -> T {
    let store = FakeStore(name: name)
    return try await withLoopbackServer([DataServiceAdapter(store: store), FakeFunctions(name: name)]) { port in
        try await body("http://127.0.0.1:\(port)", store)
    }
}
