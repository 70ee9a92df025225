import OaaSCore
import GRPCCore

/// How PM treats a CRM failure (spec §5.5, §8.1).
enum CRMFailure {
    /// Only these are retried: the CRM (or its Kubernetes) may answer differently next time.
    static func isRetryable(_ code: RPCError.Code) -> Bool {
        code == .unavailable || code == .deadlineExceeded || code == .aborted || code == .resourceExhausted
    }

    /// The gRPC status of any error thrown by a ``CRMClient`` (non-RPC errors count as UNAVAILABLE: the call did
    /// not reach a CRM that could answer).
    static func rpcError(_ error: any Error) -> RPCError {
        if let error = error as? RPCError { return error }
        if let convertible = error as? any RPCErrorConvertible {
            return RPCError(code: convertible.rpcErrorCode, message: convertible.rpcErrorMessage)
        }
        if error is CancellationError { return RPCError(code: .cancelled, message: "call cancelled") }
        return RPCError(code: .unavailable, message: "\(error)")
    }

    /// `CODE: message` for logs, `last_error` and response bodies.
    static func describe(_ error: RPCError) -> String {
        "\(name(error.code)): \(error.message)"
    }

    /// The API error of a failed read (§8.1 "PM treatment" column).
    static func apiError(_ error: RPCError, env: String) -> PMError {
        let text = "CRM of env '\(env)': \(describe(error))"
        return switch error.code {
        case .notFound: PMError(.notFound, text)
        case .invalidArgument: PMError(.badRequest, text)
        case .alreadyExists, .failedPrecondition: PMError(.conflict, text)
        case .unavailable, .aborted, .resourceExhausted, .cancelled: PMError(.crmUnavailable, text)
        case .deadlineExceeded: PMError(.crmTimeout, text)
        default: PMError(.crmError, text)
        }
    }

    static func name(_ code: RPCError.Code) -> String { OaaSError.name(of: code) }
}
