import OaaSCore

/// ODGM's invocation settings (data-plane spec §9.1); `ODGMConfig` reads them from the environment.
public struct InvocationSettings: Sendable, Equatable {
    /// Deadline of a runtime call when the caller propagated none (`ODGM_INVOKE_TIMEOUT_MS`).
    public var invokeTimeout: Duration

    public init(invokeTimeout: Duration = .milliseconds(300_000)) {
        self.invokeTimeout = invokeTimeout
    }
}
