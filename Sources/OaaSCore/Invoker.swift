import OaaSProto

/// The semantics of `oprc.OprcFunction` (data-plane spec §5), independent of the wire.
///
/// ODGM implements it by dispatching to the function's route; the gateway implements it by
/// validating and forwarding to the ODGM that owns the partition (in-process when both roles share
/// a process). A function that ran and failed is a response with a non-OKAY `status`, never a throw;
/// only bad requests, unknown class/partition/function and deadlines throw (``OaaSError``).
public protocol Invoker: Sendable {
    func invokeFn(_ request: Oprc_InvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse
    func invokeObj(_ request: Oprc_ObjectInvocationRequest, context: CallContext) async throws -> Oprc_InvocationResponse
}

/// The semantics of `oaas.invocation.AsyncInvocation` (data-plane spec §5.5): a submitted call is
/// recorded durably in its partition and run at least once; its result is kept for a while.
public protocol AsyncInvoker: Sendable {
    func submit(_ request: Oaas_Invocation_SubmitRequest, context: CallContext) async throws -> Oaas_Invocation_SubmitResponse
    func getResult(_ request: Oaas_Invocation_GetResultRequest, context: CallContext) async throws -> Oaas_Invocation_GetResultResponse
}
