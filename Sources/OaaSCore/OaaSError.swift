import GRPCCore

/// The one error type of the platform: a stable code, a message naming the offending field, and
/// one mapping each to gRPC and to HTTP (data-plane spec §4.6, §8.4).
public struct OaaSError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case invalidObjectId = "INVALID_OBJECT_ID"
        case invalidArgument = "INVALID_ARGUMENT"
        case noClass = "NO_CLASS"
        case noPartition = "NO_PARTITION"
        case noFunction = "NO_FUNCTION"
        case noObject = "NO_OBJECT"
        case noEntry = "NO_ENTRY"
        case noInvocation = "NO_INVOCATION"
        case notFound = "NOT_FOUND"
        case alreadyExists = "ALREADY_EXISTS"
        case versionMismatch = "VERSION_MISMATCH"
        case functionDisabled = "FUNCTION_DISABLED"
        case resourceExhausted = "RESOURCE_EXHAUSTED"
        case unimplemented = "UNIMPLEMENTED"
        case unavailable = "UNAVAILABLE"
        case deadlineExceeded = "DEADLINE_EXCEEDED"
        case payloadTooLarge = "PAYLOAD_TOO_LARGE"
        case unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
        case methodNotAllowed = "METHOD_NOT_ALLOWED"
        case permissionDenied = "PERMISSION_DENIED"
        case unauthenticated = "UNAUTHENTICATED"
        case cancelled = "CANCELLED"
        case `internal` = "INTERNAL"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// gRPC status code of this error.
    public var rpcCode: RPCError.Code {
        switch code {
        case .invalidObjectId, .invalidArgument: .invalidArgument
        case .noClass, .noPartition, .noFunction, .noObject, .noEntry, .noInvocation, .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .versionMismatch: .aborted
        case .functionDisabled: .failedPrecondition
        case .resourceExhausted: .resourceExhausted
        case .unimplemented: .unimplemented
        case .unavailable: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        case .payloadTooLarge: .resourceExhausted
        case .unsupportedMediaType, .methodNotAllowed: .invalidArgument
        case .permissionDenied: .permissionDenied
        case .unauthenticated: .unauthenticated
        case .cancelled: .cancelled
        case .internal: .internalError
        }
    }

    /// HTTP status of this error in the REST error envelope.
    public var httpStatus: Int {
        switch code {
        case .invalidObjectId, .invalidArgument, .functionDisabled: 400
        case .noClass, .noPartition, .noFunction, .noObject, .noEntry, .noInvocation, .notFound: 404
        case .alreadyExists, .versionMismatch: 409
        case .resourceExhausted: 429
        case .unimplemented: 501
        case .unavailable: 503
        case .deadlineExceeded: 504
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .methodNotAllowed: 405
        case .permissionDenied: 403
        case .unauthenticated: 401
        case .cancelled, .internal: 500
        }
    }

    /// Metadata key that carries the REST code across a gRPC hop (+ours).
    public static let errorCodeMetadataKey = "oaas-error-code"

    /// The error as a gRPC status, with the REST code in the metadata so a gateway can keep it.
    public var rpcError: RPCError {
        var metadata = Metadata()
        metadata.addString(code.rawValue, forKey: Self.errorCodeMetadataKey)
        return RPCError(code: rpcCode, message: message, metadata: metadata)
    }

    /// Rebuilds the error from a gRPC failure, preferring the carried REST code
    /// (a reference peer sends none: spec §4.6 fallbacks apply).
    public init(rpcError: RPCError) {
        if let raw = rpcError.metadata[stringValues: Self.errorCodeMetadataKey].first(where: { _ in true }),
           let code = Code(rawValue: raw) {
            self.init(code, rpcError.message)
            return
        }
        let code: Code = switch rpcError.code {
        case .invalidArgument: .invalidArgument
        case .notFound: .noObject
        case .alreadyExists: .alreadyExists
        case .aborted: .versionMismatch
        case .failedPrecondition: .functionDisabled
        case .resourceExhausted: .resourceExhausted
        case .unimplemented: .unimplemented
        case .unavailable: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        case .permissionDenied: .permissionDenied
        case .unauthenticated: .unauthenticated
        case .cancelled: .cancelled
        default: .internal
        }
        self.init(code, rpcError.message)
    }

    /// Any error as an OaaSError; unknown errors become INTERNAL.
    public static func from(_ error: any Error) -> OaaSError {
        switch error {
        case let error as OaaSError: error
        case let error as RPCError: OaaSError(rpcError: error)
        default: OaaSError(.internal, "\(error)")
        }
    }

    /// The gRPC code name as the CLI prints it (`error: <CODE>: <message>`).
    public var rpcCodeName: String { Self.name(of: rpcCode) }

    public static func name(of code: RPCError.Code) -> String {
        switch code {
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        default: "UNKNOWN"
        }
    }
}
