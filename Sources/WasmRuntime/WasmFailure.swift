/// Why a WASM call did not produce the guest's own response.
enum WasmFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The module could not be fetched, parsed or instantiated.
    case module(String)
    /// The guest ran and was stopped: a trap, out of fuel, a missing export, ABI misuse or a failed host call.
    case guest(String)
    /// The call's deadline passed while the guest ran or waited.
    case deadline

    var description: String {
        switch self {
        case .module(let text), .guest(let text): text
        case .deadline: "deadline expired"
        }
    }
}
