import Foundation
import GRPCCore
import OaaSProto
import Testing

/// `OAAS_GRPC_TRANSPORT` picks the HTTP/2 engine of a role's listener: both engines serve gRPC and REST on the one
/// port, and a value that is neither stops the process with exit code 2 naming the variable.
@Suite struct GRPCTransportChoiceTests {
    @Test(arguments: ["nghttp2", "nio"])
    func bothEnginesServeGRPCAndRESTOnOnePort(_ transport: String) async throws {
        let port = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let odgm = try await OaasProcess(["serve", "--role", "odgm"], port: port, environment: [
            "ODGM_HTTP_PORT": String(port), "ODGM_DATA_DIR": dir, "ODGM_COLLECTION": collectionJSON("kv"),
            "OAAS_GRPC_TRANSPORT": transport,
        ])
        let value = try await odgm.withClient { grpc in
            let data = Oprc_DataService.Client(wrapping: grpc)
            var set = Oprc_SetKeyRequest()
            set.clsID = "kv"
            set.partitionID = 1
            set.objectID = 7
            set.key = 3
            set.value = valData("over \(transport)")
            _ = try await data.setValue(set)
            var get = Oprc_SingleKeyRequest()
            get.clsID = "kv"
            get.partitionID = 1
            get.objectID = 7
            get.key = 3
            return try await data.getValue(get).value.data
        }
        #expect(String(decoding: value, as: UTF8.self) == "over \(transport)")
        #expect(try await odgm.http("GET", "/healthz").0 == 200)
        odgm.signal(SIGTERM)
        #expect(try await odgm.waitForExit() == 0)
    }

    @Test func anUnknownTransportStopsTheProcess() async throws {
        let port = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let odgm = try await OaasProcess(["serve", "--role", "odgm"], port: port, environment: [
            "ODGM_HTTP_PORT": String(port), "ODGM_DATA_DIR": dir, "OAAS_GRPC_TRANSPORT": "quic",
        ], waitReady: false)
        #expect(try await odgm.waitForExit() == 2)
        #expect(odgm.log.contains("OAAS_GRPC_TRANSPORT=quic"))
    }
}
