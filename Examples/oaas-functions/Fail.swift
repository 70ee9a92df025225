import FunctionKit

/// `fail` (stateless and object method): answers the status named in the payload, to check the
/// status mapping end to end (data-plane spec §5.3): `ok`, `invalid`, `app` or `system`.
/// Each failure is thrown, so the SDK's error mapping is what produces the status.
enum Fail {
    struct RequestedFailure: Error, CustomStringConvertible {
        var description: String { "requested system failure" }
    }

    static func register(in app: inout FunctionApp) {
        app.stateless("fail") { call in try answer(call.payloadText) }
        app.object("fail") { call in try answer(call.payloadText) }
    }

    private static func answer(_ payload: String) throws -> FunctionResponse {
        var name = payload.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
        switch name {
        case "ok", "": return .ok("ok")
        case "invalid": throw FunctionError.invalid("requested invalid request")
        case "app": throw FunctionError.app("requested application error")
        case "system": throw RequestedFailure()
        default: throw FunctionError.invalid("unknown status '\(name)'; use ok, invalid, app or system")
        }
    }
}
