/// What validation found: every problem (the first is the primary one) and the warnings.
public struct ValidationReport: Sendable, Equatable {
    public var issues: [ValidationIssue]
    public var warnings: [String]

    public init(issues: [ValidationIssue] = [], warnings: [String] = []) {
        self.issues = issues
        self.warnings = warnings
    }

    public var isValid: Bool { issues.isEmpty }

    /// The error to answer with, or nil if valid. Its code is the primary problem's.
    public var error: ModelError? { ModelError(issues: issues) }

    /// Throws the error if there is one.
    public func check() throws(ModelError) {
        if let error { throw error }
    }

    mutating func fail(_ field: FieldPath, _ message: String, code: ModelError.Code = .validationFailed) {
        issues.append(ValidationIssue(code, field: field.description, message))
    }

    mutating func warn(_ field: FieldPath, _ message: String) {
        warnings.append(field.isRoot ? message : "\(field): \(message)")
    }

    mutating func check(_ rule: NameRule, _ value: String, at field: FieldPath) {
        if let problem = rule.problem(value) { fail(field, problem) }
    }
}

/// The rules of spec §3. Rules that need outside knowledge (other packages, configured envs) take it as
/// parameters so PM and CLI share one implementation.
public enum ModelValidator {}
