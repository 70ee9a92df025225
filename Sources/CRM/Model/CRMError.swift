import GRPCCore

/// Every failure the CRM reports to a caller, one case per gRPC code of control-plane spec §8.1.
/// Messages name the offending field where there is one (`deployment_unit.functions[1].provision_config: ...`).
public enum CRMError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case alreadyExists(String)
    case failedPrecondition(String)
    case aborted(String)
    case notFound(String)
    case permissionDenied(String)
    case unavailable(String)
    case deadlineExceeded(String)
    case internalError(String)

    public var message: String {
        switch self {
        case .invalidArgument(let message), .alreadyExists(let message), .failedPrecondition(let message),
             .aborted(let message), .notFound(let message), .permissionDenied(let message),
             .unavailable(let message), .deadlineExceeded(let message), .internalError(let message):
            message
        }
    }

    public var rpcCode: RPCError.Code {
        switch self {
        case .invalidArgument: .invalidArgument
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .aborted: .aborted
        case .notFound: .notFound
        case .permissionDenied: .permissionDenied
        case .unavailable: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        case .internalError: .internalError
        }
    }

    /// The status the gRPC services answer with.
    public var rpcError: RPCError { RPCError(code: rpcCode, message: message) }

    public var description: String { "\(rpcCode): \(message)" }
}
