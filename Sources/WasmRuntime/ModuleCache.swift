import WasmKit

/// Modules by `wasm_module_url`, loaded once and shared by every call (spec §9.6 "cached per URL").
/// Concurrent first calls share one load. A failed load is remembered for `failureTTL`, so a broken
/// URL costs one fetch and compile per TTL rather than one per call; after it, the next call (or
/// a deploy, through ``forgetFailure(_:)``) tries again and picks up a fixed file or a server that
/// came back.
actor ModuleCache {
    private enum Entry {
        /// A load in flight; `generation` tells it apart from a later load of the same URL.
        case loading(Task<Module, any Error>, generation: UInt64)
        case loaded(Module)
        case failed(WasmFailure, until: ContinuousClock.Instant)
    }

    private enum Lookup {
        case ready(Module)
        case pending(Task<Module, any Error>)
        case failed(WasmFailure)
    }

    private let loader: ModuleLoader
    private let failureTTL: Duration
    private var entries: [String: Entry] = [:]
    private var generation: UInt64 = 0

    init(loader: ModuleLoader, failureTTL: Duration) {
        self.loader = loader
        self.failureTTL = failureTTL
    }

    /// The module at `url`. The wait is abandonable: a caller whose deadline passes or that is
    /// cancelled stops waiting at once (CancellationError) while the load goes on for the others.
    nonisolated func module(for url: String) async throws -> Module {
        let task: Task<Module, any Error>
        switch await lookup(url) {
        case .ready(let module): return module
        case .failed(let failure): throw failure
        case .pending(let pending): task = pending
        }
        let loaded = OneShot<Module>()
        do {
            return try await loaded.wait {
                Task { loaded.deliver(await task.result) }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw (error as? WasmFailure) ?? .module("wasm module \(url): \(error)")
        }
    }

    /// What the cache holds for `url`; a failure whose TTL has passed counts as absent.
    func state(of url: String) -> WasmModuleState {
        switch entries[url] {
        case nil: .absent
        case .loading: .loading
        case .loaded: .loaded
        case .failed(let failure, let until): ContinuousClock.now < until ? .failed(failure.description) : .absent
        }
    }

    /// Drops a remembered failure (a module was just deployed: try it now, not after the TTL).
    func forgetFailure(_ url: String) {
        if case .failed = entries[url] { entries[url] = nil }
    }

    /// Drops a module, e.g. when its function is undeployed; calls in flight keep their copy.
    func remove(_ url: String) {
        entries[url] = nil
    }

    private func lookup(_ url: String) -> Lookup {
        switch entries[url] {
        case .loaded(let module):
            return .ready(module)
        case .loading(let task, _):
            return .pending(task)
        case .failed(let failure, let until) where ContinuousClock.now < until:
            return .failed(failure)
        case .failed, nil:
            return .pending(startLoad(url))
        }
    }

    private func startLoad(_ url: String) -> Task<Module, any Error> {
        generation += 1
        let current = generation
        let loader = self.loader
        // Unstructured on purpose: the load belongs to the cache, not to the first caller. It records
        // its own outcome, so a failure is remembered even when every waiter gave up.
        let task = Task { () async throws -> Module in
            let result: Result<Module, WasmFailure>
            do throws(WasmFailure) {
                result = .success(try await loader.load(url: url))
            } catch {
                result = .failure(error)
            }
            await self.finish(url, generation: current, result)
            return try result.get()
        }
        entries[url] = .loading(task, generation: current)
        return task
    }

    /// Records a load's outcome, unless the entry was removed or replaced meanwhile.
    private func finish(_ url: String, generation finished: UInt64, _ result: Result<Module, WasmFailure>) {
        guard case .loading(_, let current) = entries[url], current == finished else { return }
        switch result {
        case .success(let module):
            entries[url] = .loaded(module)
        case .failure(let failure) where failureTTL > .zero:
            entries[url] = .failed(failure, until: .now + failureTTL)
        case .failure:
            entries[url] = nil
        }
    }
}

/// What the runner's module cache holds for one `wasm_module_url`.
public enum WasmModuleState: Sendable, Equatable {
    /// Not loaded (never asked for, removed, or its failure has expired).
    case absent
    /// A fetch and compile is in flight.
    case loading
    /// Compiled and cached; calls use it without loading.
    case loaded
    /// The last load failed (the reason); calls answer that failure until it expires.
    case failed(String)
}
