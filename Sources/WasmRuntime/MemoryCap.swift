import WasmKit

/// Refuses linear memory (and tables) beyond a cap: `memory.grow` past it returns -1, and a module
/// whose initial memory is larger fails to instantiate.
final class MemoryCap: ResourceLimiter {
    let maxBytes: Int
    /// Table elements allowed; tables are small in practice and this only stops runaway growth.
    let maxTableElements = 1 << 20

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        desired <= maxBytes
    }

    func limitTableGrowth(to desired: Int) throws -> Bool {
        desired <= maxTableElements
    }
}
