/// A failure answered with a Kubernetes `Status` body, as the real API server does.
struct APIError: Error {
    var code: Int
    var reason: String
    var message: String
    var details: TestJSON?

    var status: TestJSON {
        var status: TestJSON = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        if let details { status["details"] = details }
        return status
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func unauthorized() -> APIError {
        APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }

    static func notFound(_ resource: String, _ name: String) -> APIError {
        let (kindResource, group) = splitGroupResource(resource)
        return APIError(code: 404, reason: "NotFound", message: "\(resource) \"\(name)\" not found",
                        details: ["name": .string(name), "group": .string(group), "kind": .string(kindResource)])
    }

    static func noSuchPath() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    static func methodNotAllowed(_ method: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method (\(method)) "
                    + "on the requested resource")
    }

    static func alreadyExists(_ resource: String, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(resource) \"\(name)\" already exists",
                 details: ["name": .string(name)])
    }

    static func conflict(_ resource: String, _ name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(resource) \"\(name)\": \(why)",
                 details: ["name": .string(name)])
    }

    static let staleMessage = "the object has been modified; please apply your changes to the latest version and try again"

    static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "request body larger than \(limit) bytes")
    }

    static let patchMediaTypes = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    static let objectMediaTypes = "application/json, application/yaml"

    /// 415 (this server speaks neither protobuf nor CBOR).
    static func unsupportedMediaType(_ type: String, accepted: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown "
                    + "format - accepted media types include: \(accepted) (got \(type))")
    }

    /// 422 with one cause per failed field.
    static func invalid(_ resource: String, _ name: String, _ causes: [(field: String, message: String)]) -> APIError {
        let summary = causes.map { "\($0.field): \($0.message)" }.joined(separator: ", ")
        return APIError(
            code: 422, reason: "Invalid", message: "\(resource) \"\(name)\" is invalid: \(summary)",
            details: [
                "name": .string(name),
                "causes": .array(causes.map { ["reason": "FieldValueInvalid", "message": .string($0.message),
                                               "field": .string($0.field)] }),
            ])
    }

    static func unprocessable(_ message: String) -> APIError {
        APIError(code: 422, reason: "Invalid", message: message)
    }

    static func tooLargeResourceVersion(_ requested: Int64, _ current: Int64) -> APIError {
        APIError(code: 504, reason: "Timeout", message: "Too large resource version: \(requested), current: \(current)",
                 details: ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]]])
    }

    static func `internal`(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: message)
    }

    /// `deployments.apps` → (`deployments`, `apps`).
    static func splitGroupResource(_ groupResource: String) -> (String, String) {
        guard let dot = groupResource.firstIndex(of: ".") else { return (groupResource, "") }
        return (String(groupResource[..<dot]), String(groupResource[groupResource.index(after: dot)...]))
    }
}
