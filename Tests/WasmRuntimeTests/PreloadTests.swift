import Foundation
import Logging
import ODGM
import OaaSCore
import OaaSProto
import Storage
import Synchronization
import Testing
import WasmRuntime

/// Modules load when ODGM starts serving a collection (spec §9.6), wired the way `oaas` wires it
/// (`node.observeCollections { runner.preloadInBackground($0) }`): the first call finds the module
/// compiled, and a bad module is logged at deploy time with its function and URL.
@Suite struct PreloadTests {
    /// A real node over a fresh LMDB directory, with a runner observing its collections.
    final class Node: Sendable {
        let node: ODGMNode
        let runner: WasmRunner
        let logs = LogRecords()
        let path: String
        let storage = StorageRegistry()
        private let preloads = PreloadTasks()

        init(collections: [Oprc_CreateCollectionRequest] = [], settings: WasmRunnerSettings = WasmRunnerSettings()) throws {
            path = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-wasm-preload-\(UUID().uuidString)")
            var config = ODGMConfig()
            config.dataDir = path
            config.mapSizeMB = 64
            config.collections = collections
            node = try ODGMNode(config: config, storage: storage, logger: Logger(label: "wasm-preload"))
            try node.start()
            let objects = ObjectService(node: node, autoCreate: false, logger: Logger(label: "wasm-preload"))
            let runner = WasmRunner(objects: objects, settings: settings, logger: logs.logger)
            self.runner = runner
            node.observeCollections { [preloads] request in
                preloads.add(runner.preloadInBackground(request))
            }
        }

        /// Waits for every preload started so far; their failures merged by fn id.
        func preloaded() async -> [String: WasmModuleError] {
            var failures: [String: WasmModuleError] = [:]
            for task in preloads.all {
                failures.merge(await task.value) { _, new in new }
            }
            return failures
        }

        var preloadCount: Int { preloads.all.count }

        deinit {
            storage.closeAll()
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// The preload tasks the observer started, to await them.
    final class PreloadTasks: Sendable {
        private let tasks = Mutex<[Task<[String: WasmModuleError], Never>]>([])

        func add(_ task: Task<[String: WasmModuleError], Never>) { tasks.withLock { $0.append(task) } }

        var all: [Task<[String: WasmModuleError], Never>] { tasks.withLock { $0 } }
    }

    static func collection(_ name: String, _ functions: [String: String], stateless: Bool = true) -> Oprc_CreateCollectionRequest {
        var request = Oprc_CreateCollectionRequest()
        request.name = name
        request.partitionCount = 1
        for (fn, moduleURL) in functions {
            var route = wasmRoute(moduleURL, stateless: stateless)
            route.url = "wasm://\(name).\(fn)"
            request.invocations.fnRoutes[fn] = route
        }
        return request
    }

    @Test func collectionsServedAtStartAreLoadedBeforeAnyCall() async throws {
        let harness = try Node(collections: [Self.collection("shop", ["echo": exampleURL("echo"), "trap": exampleURL("trap")])])
        #expect(await harness.preloaded().isEmpty)
        #expect(await harness.runner.moduleState(url: exampleURL("echo")) == .loaded)
        #expect(await harness.runner.moduleState(url: exampleURL("trap")) == .loaded)
        let echo = try await harness.runner.invoke(fnCall("echo", payload: "warm"), functionKey: "shop.echo",
                                                   route: wasmRoute(exampleURL("echo")))
        #expect(text(echo) == "warm")
    }

    @Test func aDeployedCollectionIsLoadedAndABadModuleIsLoggedWithItsFunction() async throws {
        let harness = try Node()
        #expect(harness.preloadCount == 0)
        let host = ODGMCollectionHost(node: harness.node)
        let missing = "file:///nonexistent/oaas/missing.wat"
        let change = try await host.applyCollection(Self.collection("shop", ["incr": exampleURL("incr"), "lost": missing]))
        #expect(change == .created)
        let failures = await harness.preloaded()
        #expect(Array(failures.keys) == ["lost"])
        #expect(await harness.runner.moduleState(url: exampleURL("incr")) == .loaded)
        #expect(await harness.runner.moduleState(url: missing) == .failed("wasm module file '/nonexistent/oaas/missing.wat' not found"))
        let errors = harness.logs.all.filter { $0.level == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.message == "wasm module of function 'lost' in class 'shop' failed to load: "
            + "wasm module file '/nonexistent/oaas/missing.wat' not found")
        #expect(errors.first?.metadata["wasm_module_url"] == missing)
        #expect(errors.first?.metadata["route"] == "wasm://shop.lost")
        // The call path keeps its own error.
        let call = try await harness.runner.invoke(fnCall("lost"), functionKey: "shop.lost", route: wasmRoute(missing))
        #expect(call.status == .systemError)
        #expect(text(call) == "wasm function 'shop.lost': wasm module file '/nonexistent/oaas/missing.wat' not found")
    }

    @Test func anUpdatedCollectionLoadsItsNewFunctions() async throws {
        let harness = try Node(collections: [Self.collection("shop", ["echo": exampleURL("echo")])])
        _ = await harness.preloaded()
        #expect(await harness.runner.moduleState(url: exampleURL("spin")) == .absent)
        let change = try await ODGMCollectionHost(node: harness.node)
            .applyCollection(Self.collection("shop", ["echo": exampleURL("echo"), "spin": exampleURL("spin")]))
        #expect(change == .updated)
        #expect(await harness.preloaded().isEmpty)
        #expect(await harness.runner.moduleState(url: exampleURL("spin")) == .loaded)
    }

    @Test func collectionCreationDoesNotWaitForAModuleFetch() async throws {
        try await HTTPModuleTests.withServer([:]) { base in
            let harness = try Node(settings: WasmRunnerSettings(fetchTimeout: .milliseconds(800)))
            let url = base + "/hang"
            let started = ContinuousClock.now
            _ = try await ODGMCollectionHost(node: harness.node).applyCollection(Self.collection("slow", ["fn": url]))
            #expect(ContinuousClock.now - started < .milliseconds(500))
            // The preload runs on its own task: wait for it to start, then see it still in flight.
            var state = await harness.runner.moduleState(url: url)
            for _ in 0..<40 where state == .absent {
                try await Task.sleep(for: .milliseconds(10))
                state = await harness.runner.moduleState(url: url)
            }
            #expect(state == .loading)
            let failures = await harness.preloaded()
            #expect(failures["fn"]?.message.contains("fetching wasm module \(url) failed") == true)
        }
    }
}
