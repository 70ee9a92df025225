import WasmKit

/// Modules by `wasm_module_url`, loaded once and shared by every call (spec §9.6 "cached per URL").
/// Concurrent first calls share one load. A failed load is not kept, so a fixed file or a server
/// that comes back is picked up by the next call.
actor ModuleCache {
    private let loader: ModuleLoader
    private var entries: [String: Task<Module, any Error>] = [:]

    init(loader: ModuleLoader) {
        self.loader = loader
    }

    /// The module at `url`. The wait is abandonable: a caller whose deadline passes or that is
    /// cancelled stops waiting at once (CancellationError) while the load goes on for the others.
    nonisolated func module(for url: String) async throws -> Module {
        let task = await loadTask(for: url)
        let loaded = OneShot<Module>()
        do {
            return try await loaded.wait {
                Task { loaded.deliver(await task.result) }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            await discard(url, task)
            throw (error as? WasmFailure) ?? .module("wasm module \(url): \(error)")
        }
    }

    private func loadTask(for url: String) -> Task<Module, any Error> {
        if let existing = entries[url] { return existing }
        // Unstructured on purpose: the load belongs to the cache, not to the first caller.
        let loader = self.loader
        let task = Task { () async throws -> Module in try await loader.load(url: url) }
        entries[url] = task
        return task
    }

    /// Forgets a failed load, unless a newer one replaced it meanwhile.
    private func discard(_ url: String, _ task: Task<Module, any Error>) {
        if entries[url] == task { entries[url] = nil }
    }

    /// Drops a module, e.g. when its function is undeployed; calls in flight keep their copy.
    func remove(_ url: String) {
        entries[url] = nil
    }
}
