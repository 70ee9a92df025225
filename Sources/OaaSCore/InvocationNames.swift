import OaaSProto

extension Oprc_ResponseStatus {
    /// The wire name (`OKAY`, `APP_ERROR`, …) used in `x-oprc-status`, the REST envelope code and
    /// the `status` metric label (spec §5.3, §11.2).
    public var name: String {
        switch self {
        case .okay: "OKAY"
        case .invalidRequest: "INVALID_REQUEST"
        case .appError: "APP_ERROR"
        case .systemError: "SYSTEM_ERROR"
        case .UNRECOGNIZED(let value): "UNRECOGNIZED_\(value)"
        }
    }
}

extension Oaas_Invocation_AsyncState {
    /// The short name (`PENDING`, `RUNNING`, `DONE`) shown to REST clients.
    public var name: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .pending: "PENDING"
        case .running: "RUNNING"
        case .done: "DONE"
        case .UNRECOGNIZED(let value): "UNRECOGNIZED_\(value)"
        }
    }
}

/// Invocation ids (spec §5.5): client-chosen ids match `[A-Za-z0-9_-]{1,64}`; generated ones are
/// 21 URL-safe characters (126 random bits, as nanoid).
public enum InvocationIDs {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".utf8)

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<21).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func isValid(_ id: String) -> Bool {
        let utf8 = id.utf8
        return (1...64).contains(utf8.count) && utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"): true
            default: false
            }
        }
    }
}
