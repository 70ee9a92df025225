import OaaSCore

/// ODGM's invocation settings (data-plane spec §9.1).
public struct InvocationSettings: Sendable, Equatable {
    /// Deadline of a runtime call when the caller propagated none (`ODGM_INVOKE_TIMEOUT_MS`).
    public var invokeTimeout: Duration

    public init(invokeTimeout: Duration = .milliseconds(300_000)) {
        self.invokeTimeout = invokeTimeout
    }

    /// Reads the variables; bad values are reported to `env` (start-up fails once for all roles).
    public init(env: EnvReader) {
        let milliseconds = env.int("ODGM_INVOKE_TIMEOUT_MS", default: Int64(300_000), range: 1...Int64(Int32.max))
        self.init(invokeTimeout: .milliseconds(milliseconds))
    }
}
