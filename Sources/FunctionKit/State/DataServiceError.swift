import GRPCCore

/// A failed `oprc.DataService` call made through ``ObjectClient``: which call, the gRPC status,
/// and the REST code ODGM attached (`oaas-error-code`, data-plane spec §4.6) when it sent one.
public struct DataServiceError: Error, Sendable, CustomStringConvertible {
    /// The call and its target, e.g. `GetValue users/0/user-42 key 'name'`.
    public var operation: String
    public var code: RPCError.Code
    /// ODGM's REST code (`NO_OBJECT`, `VERSION_MISMATCH`...), nil from peers that send none.
    public var errorCode: String?
    public var message: String

    public init(operation: String, code: RPCError.Code, errorCode: String? = nil, message: String) {
        self.operation = operation
        self.code = code
        self.errorCode = errorCode
        self.message = message
    }

    init(operation: String, rpcError: RPCError) {
        self.init(
            operation: operation,
            code: rpcError.code,
            errorCode: rpcError.metadata[stringValues: ContextKeys.errorCode].first(where: { _ in true }),
            message: rpcError.message
        )
    }

    /// ABORTED: `expectedVersion` did not match the object's version (data-plane spec §4.3).
    public var isVersionMismatch: Bool { code == .aborted }

    /// NOT_FOUND because the object does not exist (as opposed to an unknown class or partition).
    /// A peer without `oaas-error-code` means the object (spec §4.6).
    var isMissingObject: Bool {
        code == .notFound && (errorCode == nil || errorCode == "NO_OBJECT")
    }

    public var description: String {
        "DataService \(operation) failed: \(code)\(errorCode.map { " (\($0))" } ?? ""): \(message)"
    }
}
