import Foundation
import Logging
import ODGM
import OaaSCore
import OaaSProto
import Storage
import Testing
import WasmRuntime

/// WASM functions through ODGM's own invoker, with the node's LMDB-backed store behind the host calls.
@Suite struct FunctionInvokerTests {
    /// A node with class `shop` (2 partitions) whose functions are the example modules.
    final class Harness: Sendable {
        let node: ODGMNode
        let objects: ObjectService
        let invoker: FunctionInvoker
        let path: String
        let storage: StorageRegistry

        init() throws {
            path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-wasm-odgm-\(UUID().uuidString)")
            var config = ODGMConfig()
            config.dataDir = path
            config.mapSizeMB = 64
            var collection = Oprc_CreateCollectionRequest()
            collection.name = "shop"
            collection.partitionCount = 2
            var routes: [String: Oprc_FuncInvokeRoute] = [:]
            for name in ["echo", "trap"] {
                var route = wasmRoute(exampleURL(name))
                route.url = "wasm://shop.\(name)"
                routes[name] = route
            }
            var incr = wasmRoute(exampleURL("incr"), stateless: false)
            incr.url = "wasm://shop.incr"
            routes["incr"] = incr
            var spin = wasmRoute(exampleURL("spin"), fuel: 5_000_000)
            spin.url = "wasm://shop.spin"
            routes["spin"] = spin
            collection.invocations.fnRoutes = routes
            config.collections = [collection]
            storage = StorageRegistry()
            node = try ODGMNode(config: config, storage: storage, logger: Logger(label: "wasm-odgm"))
            try node.start()
            objects = ObjectService(node: node, autoCreate: false, logger: Logger(label: "wasm-odgm"))
            let runner = WasmRunner(objects: objects, logger: Logger(label: "wasm-odgm"))
            invoker = FunctionInvoker(node: node, pool: RuntimeClientPool(logger: Logger(label: "wasm-odgm")),
                                      wasm: runner, logger: Logger(label: "wasm-odgm"))
        }

        deinit {
            storage.closeAll()
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    static func request(_ fn: String, partition: UInt32 = 0, payload: String = "") -> Oprc_InvocationRequest {
        var request = Oprc_InvocationRequest()
        request.clsID = "shop"
        request.partitionID = partition
        request.fnID = fn
        request.payload = Data(payload.utf8)
        return request
    }

    static func objectRequest(_ fn: String, id: UInt64, partition: UInt32 = 0, payload: String = "") -> Oprc_ObjectInvocationRequest {
        var request = Oprc_ObjectInvocationRequest()
        request.clsID = "shop"
        request.partitionID = partition
        request.fnID = fn
        request.objectID = id
        request.payload = Data(payload.utf8)
        return request
    }

    @Test func echoRunsInProcessAndGetsAnInvocationID() async throws {
        let harness = try Harness()
        let response = try await harness.invoker.invokeFn(Self.request("echo", payload: "ping"), context: CallContext(invocationID: "abc"))
        #expect(response.status == .okay)
        #expect(text(response) == "ping")
        #expect(response.invocationID == "abc")
    }

    @Test func incrWritesDurableStateThroughTheNode() async throws {
        let harness = try Harness()
        _ = try await harness.invoker.invokeObj(Self.objectRequest("incr", id: 9, partition: 1), context: CallContext())
        let second = try await harness.invoker.invokeObj(Self.objectRequest("incr", id: 9, partition: 1, payload: "10"), context: CallContext())
        #expect(second.status == .okay)
        #expect(text(second) == "11")

        var key = Oprc_SingleKeyRequest()
        key.clsID = "shop"
        key.partitionID = 1
        key.objectID = 9
        key.key = 0
        let stored = try await harness.objects.getValue(key, context: CallContext())
        #expect(String(decoding: stored.value.data, as: UTF8.self) == "11")
        #expect(stored.objectVersion == 2)
    }

    @Test func aTrapIsASystemErrorResponse() async throws {
        let harness = try Harness()
        let response = try await harness.invoker.invokeFn(Self.request("trap"), context: CallContext())
        #expect(response.status == .systemError)
        #expect(text(response) == "wasm function 'shop.trap': trapped while running export 'invoke': unreachable")
    }

    @Test func aGuestPastTheDeadlineIsDeadlineExceeded() async throws {
        let harness = try Harness()
        let error = await thrownError {
            _ = try await harness.invoker.invokeFn(Self.request("spin"), context: CallContext(deadline: .now + .milliseconds(200)))
        }
        #expect(error?.code == .deadlineExceeded)
    }
}
