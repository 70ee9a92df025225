/// One problem found while decoding or validating a document, naming the field (spec §0 path syntax).
public struct ValidationIssue: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var code: ModelError.Code
    /// Path of the offending field (`classes[0].function_bindings[1].function_key`); empty for the whole document.
    public var field: String
    public var message: String

    public init(_ code: ModelError.Code, field: String, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

/// The error of the model layer: a stable code, the primary field and message, and every problem in `details`
/// (the PM error envelope of spec §4.1 maps one to one).
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A distinct code per kind of problem so PM can answer with the right status.
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// Not decodable: syntax, wrong type, wrong document shape (400).
        case badRequest = "BAD_REQUEST"
        /// A rule of spec §3 (400).
        case validationFailed = "VALIDATION_FAILED"
        /// An env that is not configured (400).
        case unknownEnv = "UNKNOWN_ENV"
        /// A referenced package does not exist (404, field `package_name`).
        case notFound = "NOT_FOUND"

        public var httpStatus: Int {
            switch self {
            case .badRequest, .validationFailed, .unknownEnv: 400
            case .notFound: 404
            }
        }
    }

    public var code: Code
    /// The primary field (the first problem's), if the problem is about one field.
    public var field: String?
    /// `field: message` of the primary problem.
    public var message: String
    /// Every problem, the primary first.
    public var details: [ValidationIssue]

    public init(code: Code, field: String?, message: String, details: [ValidationIssue] = []) {
        self.code = code
        self.field = field
        self.message = message
        self.details = details
    }

    /// The error for a non-empty list of problems: the first is the primary one.
    public init?(issues: [ValidationIssue]) {
        guard let first = issues.first else { return nil }
        self.init(
            code: first.code,
            field: first.field.isEmpty ? nil : first.field,
            message: first.description,
            details: issues
        )
    }

    /// A problem with the whole document (syntax, shape).
    public static func badRequest(_ message: String) -> ModelError {
        ModelError(code: .badRequest, field: nil, message: message)
    }

    public var httpStatus: Int { code.httpStatus }

    public var description: String { "\(code.rawValue): \(message)" }
}
