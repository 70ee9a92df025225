import Foundation
import GRPCCore
import OaaSCore
import OaaSProto

/// The outcome table of data-plane spec §5.2 for a runtime call that did not answer normally.
public enum InvocationOutcome {
    /// Maps a failed call: deadline expiry (ours or a hop's) and cancellation are thrown; a gRPC
    /// status the runtime sent is APP_ERROR; an unreachable or reset runtime, an exhausted pool or
    /// any other failure is SYSTEM_ERROR with the error's text.
    public static func response(
        for error: any Error,
        deadline: ContinuousClock.Instant,
        runtime: String
    ) throws(OaaSError) -> Oprc_InvocationResponse {
        if ContinuousClock.now >= deadline {
            throw OaaSError(.deadlineExceeded, "function runtime \(runtime) did not answer before the deadline")
        }
        switch error {
        case let error as RPCError:
            switch error.code {
            case .deadlineExceeded:
                throw OaaSError(.deadlineExceeded, "function runtime \(runtime): \(error.message)")
            case .cancelled where Task.isCancelled:
                throw OaaSError(.cancelled, "invocation cancelled")
            case .unavailable:
                // Transport failures (refused, reset, closed) surface as UNAVAILABLE.
                return systemError("function runtime \(runtime) unreachable: \(error.message)")
            default:
                return appError(code: error.code, message: error.message)
            }
        case let error as OaaSError where error.code == .deadlineExceeded || error.code == .cancelled:
            throw error
        case let error as OaaSError:
            return systemError("function runtime \(runtime): \(error.message)")
        case is CancellationError:
            throw OaaSError(.cancelled, "invocation cancelled")
        default:
            return systemError("function runtime \(runtime): \(error)")
        }
    }

    public static func systemError(_ text: String) -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        response.status = .systemError
        response.payload = Data(text.utf8)
        return response
    }

    public static func appError(code: RPCError.Code, message: String) -> Oprc_InvocationResponse {
        var response = Oprc_InvocationResponse()
        response.status = .appError
        response.payload = Data(message.utf8)
        response.headers["grpc-status"] = OaaSError.name(of: code)
        return response
    }
}
