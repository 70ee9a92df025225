import OaaSCore
import OaaSProto

/// Told about every InvokeObj that ODGM dispatched, whatever its outcome; the function triggers
/// of spec §6.1 (`on_complete` after OKAY, `on_error` otherwise) hang off this hook.
///
/// `request` is the call as sent to the runtime (normalized id, §5.4 options included). A call
/// rejected before dispatch (bad id, unknown class, partition or function) is not reported.
public protocol InvocationObserver: Sendable {
    func objectInvocationFinished(
        _ request: Oprc_ObjectInvocationRequest,
        result: Result<Oprc_InvocationResponse, OaaSError>,
        context: CallContext
    ) async
}
