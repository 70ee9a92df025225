import Foundation
import GRPCCore
import OaaSCore
import OaaSProto
import SwiftProtobuf
import Testing
@testable import Router

private func forwardRequest<M: SwiftProtobuf.Message>(_ method: String, _ message: M, cls: String? = nil,
                                                     pid: UInt32? = nil, hops: UInt32 = 0,
                                                     metadata: [String: String] = [:]) throws -> Oaas_Router_ForwardRequest {
    var request = Oaas_Router_ForwardRequest()
    request.method = method
    request.request = try message.serializedData()
    if let cls { request.clsID = cls }
    if let pid { request.partitionID = pid }
    request.hopCount = hops
    request.metadata = metadata
    return request
}

private func getRequest(_ cls: String, pid: UInt32, id: UInt64) -> Oprc_SingleObjectRequest {
    .with {
        $0.clsID = cls
        $0.partitionID = pid
        $0.objectID = id
    }
}

@Suite(.timeLimit(.minutes(1))) struct ForwardTests {
    @Test func forwardsDataServiceGetToThePrimary() async throws {
        try await withFakeNode("primary") { primaryAddress, primary in
            try await withFakeNode("replica") { replicaAddress, _ in
                try await withRouter { router in
                    try await withRouterClient(router.port) { client in
                        _ = try await client.register(odgmRegistration(
                            instance: "replica", address: replicaAddress, nodeID: 2, cls: "shop", partitions: 2,
                            shards: [(1, 2, false, true)]))
                        _ = try await client.register(odgmRegistration(
                            instance: "primary", address: primaryAddress, nodeID: 1, cls: "shop", partitions: 2,
                            shards: [(1, 1, true, true)]))

                        let response = try await client.forward(forwardRequest(
                            "/oprc.DataService/Get", getRequest("shop", pid: 1, id: 7),
                            metadata: ["traceparent": "00-abc-def-01"]))
                        #expect(response.code == 0)
                        let object = try Oprc_ObjectResponse(serializedBytes: response.response)
                        #expect(String(decoding: object.obj.entriesStr["node"]?.data ?? Data(), as: UTF8.self) == "primary")
                        #expect(object.objectVersion == 3)
                        #expect(response.metadata[MetadataKeys.objectVersion] == "3")
                        #expect(primary.seen.last?.partition == 1)
                        #expect(primary.seen.last?.traceparent == "00-abc-def-01")

                        // The target's failure comes back in the response, with its REST code.
                        let missing = try await client.forward(forwardRequest(
                            "/oprc.DataService/Get", getRequest("shop", pid: 1, id: 8)))
                        #expect(missing.code == Int32(RPCError.Code.notFound.rawValue))
                        #expect(missing.message == "object not found")
                        #expect(missing.metadata[OaaSError.errorCodeMetadataKey] == "NO_OBJECT")
                        #expect(router.metrics.value("router_forward_total", [("method", "/oprc.DataService/Get"), ("code", "OK")]) == 1)
                        #expect(router.metrics.value("router_forward_total", [("method", "/oprc.DataService/Get"), ("code", "NOT_FOUND")]) == 1)
                    }
                }
            }
        }
    }

    @Test func forwardsInvokeFnAndWritesWithInt32Partitions() async throws {
        try await withFakeNode("node") { address, store in
            try await withRouter { router in
                try await withRouterClient(router.port) { client in
                    _ = try await client.register(odgmRegistration(
                        instance: "odgm", address: address, cls: "shop", partitions: 4,
                        shards: (0..<4).map { ($0, UInt64($0) + 1, true, true) }))
                    let invoke = Oprc_InvocationRequest.with {
                        $0.clsID = "shop"
                        $0.fnID = "echo"
                        $0.partitionID = 3
                        $0.payload = Data("hello".utf8)
                    }
                    let response = try await client.forward(forwardRequest("/oprc.OprcFunction/InvokeFn", invoke))
                    #expect(response.code == 0)
                    let result = try Oprc_InvocationResponse(serializedBytes: response.response)
                    #expect(result.payload == Data("hello".utf8))
                    #expect(result.headers["partition"] == "3")
                    #expect(result.headers["node"] == "node")

                    let set = Oprc_SetObjectRequest.with {
                        $0.clsID = "shop"
                        $0.partitionID = 2
                        $0.objectID = 7
                        $0.object = Oprc_ObjData()
                    }
                    let written = try await client.forward(forwardRequest("oprc.DataService/Set", set))
                    #expect(written.code == 0)
                    #expect(written.metadata[MetadataKeys.objectVersion] == "9")
                    #expect(store.seen.last?.method == "Set")
                    #expect(store.seen.last?.partition == 2)

                    // Calls without a class go to any ready node.
                    let caps = try await client.forward(forwardRequest("/oprc.DataService/Capabilities", Oprc_CapabilitiesRequest()))
                    #expect(try Oprc_CapabilitiesResponse(serializedBytes: caps.response).stringIds)
                }
            }
        }
    }

    @Test func routerRefusalsAreTheForwardStatus() async throws {
        try await withRouter(.test(maxHops: 2)) { router in
            try await withRouterClient(router.port) { client in
                _ = try await client.register(odgmRegistration(
                    instance: "odgm", address: "http://127.0.0.1:1", cls: "shop", partitions: 2,
                    shards: [(0, 1, true, true), (1, 2, true, false)]))
                let cases: [(Oaas_Router_ForwardRequest, RPCError.Code, String)] = try [
                    (forwardRequest("/oprc.DataService/ListValues", Oprc_ListValuesRequest()), .unimplemented,
                     "streaming method '/oprc.DataService/ListValues' cannot be forwarded"),
                    (forwardRequest("/oprc.DataService/Nope", Oprc_StatsRequest()), .unimplemented,
                     "method '/oprc.DataService/Nope' cannot be forwarded (unary methods of oprc.DataService, oprc.OprcFunction and oaas.invocation.AsyncInvocation only)"),
                    (forwardRequest("/oprc.DataService/Get", getRequest("shop", pid: 0, id: 7), hops: 3), .unavailable,
                     "hop limit exceeded: hop_count 3 > 2"),
                    (forwardRequest("/oprc.DataService/Get", getRequest("ghost", pid: 0, id: 7)), .notFound,
                     "class 'ghost' not found"),
                    (forwardRequest("/oprc.DataService/Get", getRequest("shop", pid: 5, id: 7)), .notFound,
                     "partition 5 not found in class 'shop' (partition_count 2)"),
                    (forwardRequest("/oprc.DataService/Get", getRequest("shop", pid: 1, id: 7)), .unavailable,
                     "no route for shop/1"),
                    (forwardRequest("/oprc.DataService/Set", Oprc_SetObjectRequest.with { $0.clsID = "shop"; $0.partitionID = -1 }),
                     .invalidArgument, "partition_id must not be negative (got -1)"),
                ]
                for (request, code, message) in cases {
                    let error = await #expect(throws: RPCError.self) { try await client.forward(request) }
                    #expect(error?.code == code)
                    #expect(error?.message == message)
                }
                // The routing hint wins over the request's own class and partition.
                let hinted = try forwardRequest("/oprc.DataService/Get", getRequest("ghost", pid: 0, id: 7), cls: "shop", pid: 9)
                let error = await #expect(throws: RPCError.self) { try await client.forward(hinted) }
                #expect(error?.message == "partition 9 not found in class 'shop' (partition_count 2)")

                // An unreachable node is the target's outcome, not the router's.
                let down = try await client.forward(forwardRequest("/oprc.DataService/Get", getRequest("shop", pid: 0, id: 7)))
                #expect(down.code == Int32(RPCError.Code.unavailable.rawValue))
                #expect(router.metrics.value("router_forward_total", [("method", "unknown"), ("code", "UNIMPLEMENTED")]) == 1)
            }
        }
    }

    @Test func grpcTimeoutParsing() {
        #expect(ForwardMetadata.timeout("100m") == .milliseconds(100))
        #expect(ForwardMetadata.timeout("2S") == .seconds(2))
        #expect(ForwardMetadata.timeout("1H") == .seconds(3600))
        #expect(ForwardMetadata.timeout("5x") == nil)
        #expect(ForwardMetadata.timeout("m") == nil)
        #expect(ForwardMetadata.timeout(nil) == nil)
    }
}
