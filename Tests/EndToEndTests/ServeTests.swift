import Foundation
import GRPCCore
import OaaSProto
import Testing

/// `oaas serve` with real listeners: a gateway in front of a separate ODGM process, over gRPC.
@Suite(.serialized) struct ServeTests {
    @Test func gatewayForwardsEveryDataServiceRPCToARemoteODGM() async throws {
        let odgmPort = freePort()
        let gatewayPort = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let odgm = try await OaasProcess(["serve", "--role", "odgm"], port: odgmPort, environment: [
            "ODGM_HTTP_PORT": String(odgmPort), "ODGM_DATA_DIR": dir, "ODGM_COLLECTION": collectionJSON("orders"),
        ])
        let gateway = try await OaasProcess(["serve", "--role", "gateway"], port: gatewayPort, environment: [
            "HTTP_PORT": String(gatewayPort), "DEFAULT_ODGM_URL": "http://127.0.0.1:\(odgmPort)",
        ])
        _ = odgm

        try await gateway.withClient { grpc in
            let data = Oprc_DataService.Client(wrapping: grpc)
            var set = Oprc_SetObjectRequest()
            set.clsID = "orders"
            set.partitionID = 1
            set.objectIDStr = "Order-1"
            set.object.entriesStr = ["status": valData("new")]
            set.object.entries = [7: valData("seven")]
            let version = try await data.set(request: ClientRequest(message: set)) { response in
                _ = try response.message
                return response.metadata[stringValues: "oaas-object-version"].first(where: { _ in true })
            }
            #expect(version == "1")
            #expect(await rpcCode { _ = try await data.set(set) } == .alreadyExists)

            var get = Oprc_SingleObjectRequest()
            get.clsID = "orders"
            get.partitionID = 1
            get.objectIDStr = "order-1"
            let object = try await data.get(get)
            #expect(object.obj.metadata.objectIDStr == "order-1")
            #expect(object.objectVersion == 1)

            var setValue = Oprc_SetKeyRequest()
            setValue.clsID = "orders"
            setValue.partitionID = 1
            setValue.objectIDStr = "order-1"
            setValue.keyStr = "status"
            setValue.value = valData("paid")
            _ = try await data.setValue(setValue)

            var getValue = Oprc_SingleKeyRequest()
            getValue.clsID = "orders"
            getValue.partitionID = 1
            getValue.objectIDStr = "order-1"
            getValue.keyStr = "status"
            let value = try await data.getValue(getValue)
            #expect(value.value.data == Data("paid".utf8) && value.objectVersion == 2)

            var batch = Oprc_BatchSetValuesRequest()
            batch.clsID = "orders"
            batch.partitionID = 1
            batch.objectIDStr = "order-1"
            batch.values = ["a": valData("1")]
            batch.deleteKeysNum = [7]
            batch.expectedObjectVersion = 2
            _ = try await data.batchSetValues(batch)
            #expect(await rpcCode { _ = try await data.batchSetValues(batch) } == .aborted)

            var merge = set
            merge.object.entriesStr = ["b": valData("2")]
            merge.object.entries = [:]
            let merged = try await data.merge(merge)
            #expect(merged.objectVersion == 4 && merged.obj.entriesStr.keys.sorted() == ["a", "b", "status"])

            var list = Oprc_ListValuesRequest()
            list.clsID = "orders"
            list.partitionID = 1
            list.objectIDStr = "order-1"
            let keys = try await data.listValues(list) { response in
                var keys: [String] = []
                for try await envelope in response.messages { keys.append(envelope.key) }
                return keys
            }
            #expect(keys == ["a", "b", "status"])

            var objects = Oprc_ListObjectsRequest()
            objects.clsID = "orders"
            objects.partitionID = 1
            let ids = try await data.listObjects(objects) { response in
                var ids: [String] = []
                for try await item in response.messages { ids.append(item.objectIDStr) }
                return ids
            }
            #expect(ids == ["order-1"])

            let stats = try await data.stats(Oprc_StatsRequest())
            #expect(stats.shards.count == 4 && stats.shards.first { $0.partitionID == 1 }?.count == 1)
            let caps = try await data.capabilities(Oprc_CapabilitiesRequest())
            #expect(caps.stringIds && caps.granularEntryStorage && caps.eventPipelineV2) // triggers and change events are delivered

            var deleteValue = getValue
            deleteValue.keyStr = "b"
            _ = try await data.deleteValue(deleteValue)
            _ = try await data.delete(get)
            #expect(await rpcCode { _ = try await data.get(get) } == .notFound)
            #expect(await rpcCode { _ = try await data.delete(get) } == .notFound)

            // Errors keep their REST code across both hops.
            var unknown = get
            unknown.clsID = "nope"
            do {
                _ = try await data.get(unknown)
                Issue.record("expected NOT_FOUND")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
                #expect(error.metadata[stringValues: "oaas-error-code"].first(where: { _ in true }) == "NO_CLASS")
            }
            var bad = get
            bad.objectIDStr = "Bad$Id"
            #expect(await rpcCode { _ = try await data.get(bad) } == .invalidArgument)
        }

        // The gateway counted the string-id requests, and rejected exactly one.
        let (_, _, metrics) = try await gateway.http("GET", "/metrics")
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains("gateway_string_id_rejected_total 1"))
        let (_, _, odgmMetrics) = try await odgm.http("GET", "/metrics")
        let odgmText = String(decoding: odgmMetrics, as: UTF8.self)
        #expect(odgmText.contains("odgm_object_set_total{variant=\"string\"} 1"))
        // Every gRPC call is counted by method and status code, failures included.
        let grpcLines = odgmText.split(separator: "\n").filter { $0.hasPrefix("odgm_grpc_requests_total{") }
        #expect(grpcLines.contains { $0.contains("method=\"Get\"") && $0.contains("code=\"NOT_FOUND\"") })
        #expect(text.contains("gateway_grpc_requests_total{"))
    }

    @Test func unknownClassUnderServeIsNotFoundEvenForWrites() async throws {
        let port = freePort()
        let odgmPort = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await OaasProcess(["serve", "--role", "odgm,gateway"], port: port, environment: [
            "HTTP_PORT": String(port), "ODGM_HTTP_PORT": String(odgmPort), "ODGM_DATA_DIR": dir,
        ])
        let result = try await runCLI(["object", "setstr", "--cls-id", "users", "0", "--object-id-str", "user-42", "-s", "name=alice", "-g", "http://127.0.0.1:\(port)"])
        #expect(result.0 == 1)
        #expect(result.2.contains("NOT_FOUND"))
        let (status, _, body) = try await server.http("GET", "/api/class/users/0/objects/1")
        #expect(status == 404)
        #expect(String(decoding: body, as: UTF8.self).contains("\"NO_CLASS\""))
        let (ready, _, _) = try await server.http("GET", "/readyz")
        #expect(ready == 200)
    }

    @Test func routerRoleKeepsTheRoutesNodesRegister() async throws {
        let port = freePort()
        let router = try await OaasProcess(["serve", "--role", "router"], port: port,
                                           environment: ["OPRC_ROUTER_PORT": String(port), "OPRC_ROUTER_ENV": "edge-1"])
        let table = try await router.withClient { client in
            let routes = Oaas_Router_RouterService.Client(wrapping: client)
            var node = Oaas_Router_RegisterRequest()
            node.instanceID = "odgm-a"
            node.role = .odgm
            node.address = "http://127.0.0.1:1"
            var collection = Oprc_CreateCollectionRequest()
            collection.name = "users"
            collection.partitionCount = 2
            node.collections = [collection]
            var shard = Oaas_Router_HostedShard()
            shard.clsID = "users"
            shard.partitionID = 1
            shard.shardID = 2
            shard.primary = true
            shard.ready = true
            node.shards = [shard]
            let lease = try await routes.register(node)
            #expect(!lease.leaseID.isEmpty && lease.leaseTtlMs > 0)
            return try await routes.getRoutes(Oaas_Router_GetRoutesRequest())
        }
        let users = table.collections.first { $0.clsID == "users" }
        #expect(users?.env == "edge-1")
        #expect(users?.partitions.first { $0.partitionID == 1 }?.shards.first?.address == "http://127.0.0.1:1")
        let (code, _, _) = try await runCLI(["serve", "--role", "nonsense"])
        #expect(code == 2)
    }
}

@Suite struct CommandLineTests {
    @Test func helpExistsOnEveryCommand() async throws {
        for command in [[], ["serve"], ["dev"], ["object"], ["object", "setstr"], ["capabilities"], ["stats"], ["context", "set"]] {
            let (code, stdout, _) = try await runCLI(command + ["--help"])
            #expect(code == 0, "\(command)")
            #expect(stdout.contains("USAGE"), "\(command)")
        }
    }

    @Test func usageErrorsExitTwo() async throws {
        #expect(try await runCLI(["object", "setstr", "--cls-id", "users"]).0 == 2)
        #expect(try await runCLI(["object", "set", "-c", "users", "0", "1", "-b", "notanumber=x"]).0 == 2)
        #expect(try await runCLI(["serve", "--role", "nonsense"]).0 == 2)
        #expect(try await runCLI(["object", "get", "-z", "tcp/1.2.3.4:7447"]).0 == 2)
    }
}
