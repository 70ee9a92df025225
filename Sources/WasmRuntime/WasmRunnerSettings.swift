/// Limits of the in-process WASM runtime. Defaults follow data-plane spec §9.1 and §9.6.
public struct WasmRunnerSettings: Sendable, Equatable {
    /// Fuel per call when the route sets no `wasm_fuel` (or sets 0).
    public var defaultFuel: UInt64
    /// Cap on a guest's linear memory; `memory.grow` beyond it returns -1.
    public var maxMemoryBytes: Int
    /// Cap on the response a guest builds (payload plus headers), like `ODGM_MAX_MESSAGE_BYTES`.
    public var maxOutputBytes: Int
    /// Cap on a fetched module file.
    public var maxModuleBytes: Int
    /// Time allowed to fetch a module over HTTP.
    public var fetchTimeout: Duration
    /// Guests running at once; further calls wait for a slot (within their deadline).
    public var maxConcurrentGuests: Int
    /// Native stack of each guest thread.
    public var threadStackBytes: Int
    /// How long a failed module load is remembered: calls within it answer the same failure without a
    /// new fetch and compile. Zero retries on every call.
    public var failedModuleTTL: Duration

    public init(
        defaultFuel: UInt64 = 1_000_000_000,
        maxMemoryBytes: Int = 64 << 20,
        maxOutputBytes: Int = 16 << 20,
        maxModuleBytes: Int = 64 << 20,
        fetchTimeout: Duration = .seconds(30),
        maxConcurrentGuests: Int = 64,
        threadStackBytes: Int = 4 << 20,
        failedModuleTTL: Duration = .seconds(5)
    ) {
        self.defaultFuel = defaultFuel
        self.maxMemoryBytes = maxMemoryBytes
        self.maxOutputBytes = maxOutputBytes
        self.maxModuleBytes = maxModuleBytes
        self.fetchTimeout = fetchTimeout
        self.maxConcurrentGuests = max(1, maxConcurrentGuests)
        self.threadStackBytes = threadStackBytes
        self.failedModuleTTL = max(.zero, failedModuleTTL)
    }
}
