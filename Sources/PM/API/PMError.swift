import OaaSModels

/// Every error PM answers with (control-plane spec §4.1): a stable code with its HTTP status, a message that names
/// the offending field, the field, and every problem in `details`.
public struct PMError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case badRequest = "BAD_REQUEST"
        case validationFailed = "VALIDATION_FAILED"
        case unknownEnv = "UNKNOWN_ENV"
        case notFound = "NOT_FOUND"
        case methodNotAllowed = "METHOD_NOT_ALLOWED"
        case alreadyExists = "ALREADY_EXISTS"
        case inUse = "IN_USE"
        case conflict = "CONFLICT"
        case preconditionFailed = "PRECONDITION_FAILED"
        case payloadTooLarge = "PAYLOAD_TOO_LARGE"
        case unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
        case crmError = "CRM_ERROR"
        case noEnvAvailable = "NO_ENV_AVAILABLE"
        case crmUnavailable = "CRM_UNAVAILABLE"
        case storageUnavailable = "STORAGE_UNAVAILABLE"
        case crmTimeout = "CRM_TIMEOUT"
        case `internal` = "INTERNAL"

        public var httpStatus: Int {
            switch self {
            case .badRequest, .validationFailed, .unknownEnv: 400
            case .notFound: 404
            case .methodNotAllowed: 405
            case .alreadyExists, .inUse, .conflict: 409
            case .preconditionFailed: 412
            case .payloadTooLarge: 413
            case .unsupportedMediaType: 415
            case .crmError: 502
            case .noEnvAvailable, .crmUnavailable, .storageUnavailable: 503
            case .crmTimeout: 504
            case .internal: 500
            }
        }
    }

    public struct Detail: Sendable, Equatable {
        public var field: String?
        public var message: String

        public init(field: String?, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var code: Code
    public var message: String
    public var field: String?
    public var details: [Detail]

    public init(_ code: Code, _ message: String, field: String? = nil, details: [Detail] = []) {
        self.code = code
        self.message = message
        self.field = field
        self.details = details
    }

    public var httpStatus: Int { code.httpStatus }
    public var description: String { "\(code.rawValue): \(message)" }

    /// A decode or validation error of the model layer, code for code.
    public init(_ error: ModelError) {
        let code: Code = switch error.code {
        case .badRequest: .badRequest
        case .validationFailed: .validationFailed
        case .unknownEnv: .unknownEnv
        case .notFound: .notFound
        }
        self.init(code, error.message, field: error.field, details: error.details.map {
            Detail(field: $0.field.isEmpty ? nil : $0.field, message: $0.message)
        })
    }

    static func notFound(_ what: String) -> PMError { PMError(.notFound, what) }

    static func validation(_ field: String, _ message: String) -> PMError {
        PMError(.validationFailed, "\(field): \(message)", field: field, details: [Detail(field: field, message: message)])
    }

    static func badQuery(_ field: String, _ message: String) -> PMError {
        PMError(.badRequest, "\(field): \(message)", field: field, details: [Detail(field: field, message: message)])
    }

    /// The error of a storage failure: conflicts that survive PM's retries are reported as such, the rest as 503.
    static func storage(_ error: any Error) -> PMError {
        if let error = error as? PMError { return error }
        if let error = error as? KVStoreError {
            switch error {
            case .conflict(let key): return PMError(.conflict, "concurrent update of '\(key)'; retry the request")
            case .unavailable(let message): return PMError(.storageUnavailable, "storage unavailable: \(message)")
            }
        }
        return PMError(.storageUnavailable, "storage failed: \(error)")
    }
}
