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

    public static func isValid(_ id: String) -> Bool { problem(id) == nil }

    /// What is wrong with a client-chosen id, as a phrase to follow the field's name; nil when it is valid.
    public static func problem(_ id: String) -> String? {
        let utf8 = id.utf8
        if utf8.isEmpty { return "must not be empty" }
        if utf8.count > 64 { return "length \(utf8.count) exceeds maximum 64" }
        for (offset, byte) in utf8.enumerated() where !allowed.contains(byte) {
            let shown = byte < 0x80 ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16, uppercase: true)
            return "contains invalid character '\(shown)' at offset \(offset); allowed [A-Za-z0-9_-]"
        }
        return nil
    }

    private static let allowed = Set(alphabet)
}
