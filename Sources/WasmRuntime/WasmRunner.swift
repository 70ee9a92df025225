import AsyncHTTPClient
import Logging
import ODGM
import OaaSCore
import OaaSProto
import WasmKit

/// ODGM's in-process runtime for `wasm://` routes (data-plane spec §9.6), on WasmKit.
///
/// Modules are loaded once per `wasm_module_url` and shared (ahead of calls through
/// ``preloadInBackground(_:)``; a failed load is remembered for `failedModuleTTL`); every call gets a fresh instance
/// (fresh memory) on a thread of its own, with the route's fuel, the call's deadline, a memory cap
/// and an output cap. Failures are SYSTEM_ERROR responses naming the cause; deadline expiry is
/// thrown as `DEADLINE_EXCEEDED`, as for any runtime (spec §5.4). The guest ABI is documented in
/// `WasmRuntime.swift`.
public struct WasmRunner: WasmFunctionRunner {
    private let objects: any ObjectStore
    private let settings: WasmRunnerSettings
    private let engine: Engine
    private let modules: ModuleCache
    private let slots: GuestSlots
    private let logger: Logger

    /// - Parameters:
    ///   - objects: where host data calls go (in ODGM, the node's own `ObjectStore`).
    ///   - http: the client that fetches `http(s)://` modules.
    public init(objects: any ObjectStore, settings: WasmRunnerSettings = WasmRunnerSettings(),
                http: HTTPClient = .shared, logger: Logger) {
        self.objects = objects
        self.settings = settings
        // One engine for all calls: it holds configuration only (no interceptor), and WasmKit allows
        // sharing such an engine between stores on different threads.
        self.engine = Engine(configuration: EngineConfiguration(fuelMetering: true))
        self.modules = ModuleCache(loader: ModuleLoader(http: http, maxBytes: settings.maxModuleBytes, fetchTimeout: settings.fetchTimeout),
                                   failureTTL: settings.failedModuleTTL)
        self.slots = GuestSlots(count: settings.maxConcurrentGuests)
        self.logger = logger
    }

    public func invoke(_ call: RuntimeCall, functionKey: String, route: Oprc_FuncInvokeRoute) async throws -> Oprc_InvocationResponse {
        guard route.hasWasmModuleURL, !route.wasmModuleURL.isEmpty else {
            return InvocationOutcome.systemError("wasm function '\(functionKey)': its route has no wasm_module_url")
        }
        let request = GuestRequest(call)
        let fuel = route.hasWasmFuel && route.wasmFuel > 0 ? route.wasmFuel : settings.defaultFuel
        let exportNames = Self.exportNames(functionKey: functionKey, fn: request.fn)
        let url = route.wasmModuleURL
        let deadlineError = OaaSError(.deadlineExceeded, "wasm function '\(functionKey)' did not finish before the deadline")
        if call.deadline <= .now { throw deadlineError }
        do {
            return try await withDeadline(call.deadline, orThrow: { WasmFailure.deadline }) {
                try await run(request, url: url, exportNames: exportNames, fuel: fuel)
            }
        } catch WasmFailure.deadline {
            throw deadlineError
        } catch let failure as WasmFailure {
            logger.debug("wasm call failed", metadata: [
                "fn": "\(request.fn)", "invocation_id": "\(request.invocationID)", "error": "\(failure)",
            ])
            return InvocationOutcome.systemError("wasm function '\(functionKey)': \(failure)")
        }
    }

    /// Fetches and compiles a module ahead of its first call (e.g. when a shard starts).
    public func preload(moduleURL: String) async throws(WasmModuleError) {
        do {
            _ = try await modules.module(for: moduleURL)
        } catch {
            throw WasmModuleError(url: moduleURL, message: "\(error)")
        }
    }

    /// Preloads every `wasm://` function of a collection; the failures by fn id.
    public func preloadModules(of collection: Oprc_CreateCollectionRequest) async -> [String: WasmModuleError] {
        var failures: [String: WasmModuleError] = [:]
        for (fn, route) in collection.invocations.fnRoutes where Self.isWasm(route) {
            do {
                try await preload(moduleURL: route.wasmModuleURL)
            } catch {
                failures[fn] = error
            }
        }
        return failures
    }

    /// Preloads a collection's modules on a background task, so collection creation never waits for a
    /// fetch or compile (spec §9.6: modules are "fetched and compiled when the shard starts"). A deploy is a
    /// reason to try again: remembered failures of its URLs are dropped first. Each module that fails is
    /// logged at error with its function and URL; its calls keep answering SYSTEM_ERROR naming the cause.
    /// The task's value is the failures by fn id.
    @discardableResult
    public func preloadInBackground(_ collection: Oprc_CreateCollectionRequest) -> Task<[String: WasmModuleError], Never> {
        let routes = collection.invocations.fnRoutes.filter { Self.isWasm($0.value) }
        let modules = self.modules
        let logger = self.logger
        return Task {
            if routes.isEmpty { return [:] }
            for route in routes.values { await modules.forgetFailure(route.wasmModuleURL) }
            let start = ContinuousClock.now
            let failures = await preloadModules(of: collection)
            for (fn, failure) in failures.sorted(by: { $0.key < $1.key }) {
                logger.error("wasm module of function '\(fn)' in class '\(collection.name)' failed to load: \(failure.message)", metadata: [
                    "cls": "\(collection.name)", "fn": "\(fn)", "route": "\(routes[fn]?.url ?? "")", "wasm_module_url": "\(failure.url)",
                ])
            }
            logger.debug("wasm modules preloaded", metadata: [
                "cls": "\(collection.name)", "modules": "\(routes.count - failures.count)", "failed": "\(failures.count)",
                "elapsed": "\(ContinuousClock.now - start)",
            ])
            return failures
        }
    }

    /// What the module cache holds for `moduleURL` (loaded, loading, failed or absent).
    public func moduleState(url moduleURL: String) async -> WasmModuleState {
        await modules.state(of: moduleURL)
    }

    /// Forgets a cached module (its function was undeployed or replaced); the next call reloads it.
    public func unload(moduleURL: String) async {
        await modules.remove(moduleURL)
    }

    private static func isWasm(_ route: Oprc_FuncInvokeRoute) -> Bool {
        route.url.lowercased().hasPrefix("wasm://")
    }

    // MARK: Running

    /// The function key, then the fn id, then `invoke`, without repeats.
    private static func exportNames(functionKey: String, fn: String) -> [String] {
        var names: [String] = []
        for name in [functionKey, fn, WasmABI.genericExport] where !names.contains(name) {
            names.append(name)
        }
        return names
    }

    private func run(_ request: GuestRequest, url: String, exportNames: [String], fuel: UInt64) async throws -> Oprc_InvocationResponse {
        let module = try await modules.module(for: url)
        let slot = try await slots.acquire()
        let abandoned = AbandonFlag()
        let execution = GuestExecution(
            module: module, engine: engine, request: request, exportNames: exportNames, fuel: fuel,
            maxMemoryBytes: settings.maxMemoryBytes, maxOutputBytes: settings.maxOutputBytes,
            objects: objects, abandoned: abandoned, logger: logger)
        let result = try await GuestThread.run(holding: slot, stackBytes: settings.threadStackBytes,
                                               onAbandon: { abandoned.set() }) { execution.run() }
        return try result.get()
    }
}

/// A module that could not be fetched, parsed or compiled.
public struct WasmModuleError: Error, Sendable, CustomStringConvertible {
    public let url: String
    public let message: String
    public var description: String { message }
}
