/// Handles calls of a stateless function.
public typealias StatelessHandler = @Sendable (Invocation) async throws -> FunctionResponse
/// Handles calls of an object method.
public typealias ObjectHandler = @Sendable (ObjectInvocation) async throws -> FunctionResponse

/// The handlers of one runtime by `fn_id`. A function id may have a stateless handler, an object
/// handler, or both (then InvokeFn and InvokeObj each reach their own).
struct FunctionRegistry: Sendable {
    var stateless: [String: StatelessHandler] = [:]
    var object: [String: ObjectHandler] = [:]

    /// Every registered function id, sorted.
    var functionIDs: [String] {
        Set(stateless.keys).union(object.keys).sorted()
    }
}
