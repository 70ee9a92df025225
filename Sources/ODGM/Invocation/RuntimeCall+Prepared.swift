import OaaSCore

extension RuntimeCall {
    /// The call ODGM's invoker would make for `request` in `context` (options of spec §5.4 added,
    /// invocation id and deadline settled), for runtimes driven or tested outside ``FunctionInvoker``.
    public static func prepared(_ request: Request, context: CallContext, defaultTimeout: Duration = .seconds(300)) -> RuntimeCall {
        RuntimeCall(request, context: context, defaultTimeout: defaultTimeout)
    }
}
