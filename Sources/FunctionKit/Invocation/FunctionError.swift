/// An error a handler throws to choose the `ResponseStatus` of its answer (data-plane spec §5.3).
///
/// Anything else a handler throws becomes `SYSTEM_ERROR` with the error's description.
public enum FunctionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input was bad: `INVALID_REQUEST` (HTTP 400 at the gateway).
    case invalid(String)
    /// The function ran and reports a domain error: `APP_ERROR` (HTTP 422).
    case app(String)

    public var description: String {
        switch self {
        case .invalid(let message): "invalid request: \(message)"
        case .app(let message): "application error: \(message)"
        }
    }
}
