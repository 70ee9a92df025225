import Foundation
import OaaSProto

/// The output of `invoke` and `result` (spec §12.2), without I/O.
enum InvocationRender {
    /// What a finished invocation prints and the exit code it stands for.
    struct Outcome: Equatable, Sendable {
        var stdout: String
        var stderr: String
        var exitCode: Int32
    }

    /// Exit codes by function status (spec §12.1): 0 OKAY, 3 INVALID_REQUEST, 4 APP_ERROR, 5 SYSTEM_ERROR.
    /// A status this build does not know comes from a newer peer; it counts as a system error.
    static func exitCode(for status: Oprc_ResponseStatus) -> Int32 {
        switch status {
        case .okay: 0
        case .invalidRequest: 3
        case .appError: 4
        case .systemError, .UNRECOGNIZED: 5
        }
    }

    static func name(of status: Oprc_ResponseStatus) -> String {
        switch status {
        case .okay: "OKAY"
        case .invalidRequest: "INVALID_REQUEST"
        case .appError: "APP_ERROR"
        case .systemError: "SYSTEM_ERROR"
        case .UNRECOGNIZED(let raw): "STATUS_\(raw)"
        }
    }

    static func name(of state: Oaas_Invocation_AsyncState) -> String {
        switch state {
        case .unspecified: "UNSPECIFIED"
        case .pending: "PENDING"
        case .running: "RUNNING"
        case .done: "DONE"
        case .UNRECOGNIZED(let raw): "STATE_\(raw)"
        }
    }

    /// A function's response.
    /// * table: the payload (UTF-8, lossy) and a newline; `--print-all` puts status, headers and
    ///   invocation id above it. Without `--print-all`, a non-OKAY response goes to stderr as
    ///   `error: <STATUS>: <payload>` so stdout only ever carries a successful result.
    /// * json/yaml: `{status, headers, invocation_id, payload | payload_base64}` on stdout, whatever the status.
    static func response(_ response: Oprc_InvocationResponse, printAll: Bool, format: OutputFormat) throws -> Outcome {
        let code = exitCode(for: response.status)
        let status = name(of: response.status)
        switch format {
        case .json, .yaml:
            return Outcome(stdout: try structured(response).text(format), stderr: "", exitCode: code)
        case .table where printAll:
            var out = "status: \(status)\n"
            out += headerLines(response.headers)
            out += "invocation_id: \(response.invocationID)\n"
            out += "======= payload =======\n"
            out += Render.lossy(response.payload) + "\n"
            return Outcome(stdout: out, stderr: "", exitCode: code)
        case .table where code == 0:
            return Outcome(stdout: Render.lossy(response.payload) + "\n", stderr: "", exitCode: 0)
        case .table:
            var message = Render.lossy(response.payload)
            if message.hasSuffix("\n") { message.removeLast() }
            if message.isEmpty { message = "the function returned \(status) without a payload" }
            return Outcome(stdout: "", stderr: CLIFailure(code: status, message: message).report, exitCode: code)
        }
    }

    /// `invoke --async-mode`: `Invocation ID: <id>`, or `{invocation_id, state}`.
    static func submitted(_ response: Oaas_Invocation_SubmitResponse, format: OutputFormat) throws -> String {
        switch format {
        case .table:
            return "Invocation ID: \(response.invocationID)\n"
        case .json, .yaml:
            return try StructuredValue.object([
                ("invocation_id", .string(response.invocationID)),
                ("state", .string(name(of: response.state))),
            ]).text(format)
        }
    }

    /// `result` before the call is DONE.
    static func pending(invocationID: String, state: Oaas_Invocation_AsyncState, format: OutputFormat) throws -> String {
        switch format {
        case .table:
            return "Result not yet available for invocation: \(invocationID)\n"
        case .json, .yaml:
            return try StructuredValue.object([
                ("invocation_id", .string(invocationID)),
                ("state", .string(name(of: state))),
            ]).text(format)
        }
    }

    /// `payload` when the bytes are valid UTF-8, else `payload_base64`; headers in key order.
    static func structured(_ response: Oprc_InvocationResponse) -> StructuredValue {
        let headers = response.headers.keys.sorted(by: Render.byteOrder).map { key in
            (key, StructuredValue.string(response.headers[key] ?? ""))
        }
        let payload: (String, StructuredValue)
        if let text = String(validating: response.payload, as: UTF8.self) {
            payload = ("payload", .string(text))
        } else {
            payload = ("payload_base64", .string(response.payload.base64EncodedString()))
        }
        return .object([
            ("status", .string(name(of: response.status))),
            ("headers", .object(headers)),
            ("invocation_id", .string(response.invocationID)),
            payload,
        ])
    }

    /// `headers: {}`, or `headers:` and one indented `k: v` line per header, in key order.
    private static func headerLines(_ headers: [String: String]) -> String {
        guard !headers.isEmpty else { return "headers: {}\n" }
        var out = "headers:\n"
        for key in headers.keys.sorted(by: Render.byteOrder) {
            out += "  \(key): \(headers[key] ?? "")\n"
        }
        return out
    }
}
