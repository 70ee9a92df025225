import OaaSProto

/// Runs `wasm://` routes in-process (data-plane spec §9.6). The `WasmRuntime` module implements it
/// on WasmKit; ``UnavailableWasmRunner`` is the runner of a node built without an engine.
///
/// The runner gets the same request as a remote runtime (options included) and returns the
/// function's response. A trap, running out of fuel or a missing module is a SYSTEM_ERROR
/// response; a thrown error becomes one with the error's text, except deadline expiry
/// (`OaaSError(.deadlineExceeded)`), which the caller rethrows.
public protocol WasmFunctionRunner: Sendable {
    func invoke(_ call: RuntimeCall, functionKey: String, route: Oprc_FuncInvokeRoute) async throws -> Oprc_InvocationResponse
}

/// The runner of a build without a WASM engine.
public struct UnavailableWasmRunner: WasmFunctionRunner {
    public init() {}

    public func invoke(_ call: RuntimeCall, functionKey: String, route: Oprc_FuncInvokeRoute) async throws -> Oprc_InvocationResponse {
        InvocationOutcome.systemError("wasm runtime not available")
    }
}
