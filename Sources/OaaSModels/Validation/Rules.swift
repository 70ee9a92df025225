import Foundation

/// A name rule of spec §3: length bounds and an ASCII pattern `^[first][rest]*$`.
struct NameRule: Sendable {
    let noun: String
    let maxLength: Int
    let pattern: String
    let first: @Sendable (UInt8) -> Bool
    let rest: @Sendable (UInt8) -> Bool

    /// The problem with `value`, or nil if it is valid.
    func problem(_ value: String) -> String? {
        if value.isEmpty { return "is required" }
        let bytes = Array(value.utf8)
        if bytes.count > maxLength {
            return "'\(value)' is not a valid \(noun): at most \(maxLength) characters (found \(bytes.count))"
        }
        guard let head = bytes.first, first(head), bytes.dropFirst().allSatisfy(rest) else {
            return "'\(value)' is not a valid \(noun): must match \(pattern)"
        }
        return nil
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }

    static let packageName = NameRule(
        noun: "package name", maxLength: 63, pattern: "^[A-Za-z0-9][A-Za-z0-9_-]*$",
        first: isAlphanumeric, rest: { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2D }
    )
    static let classKey = NameRule(
        noun: "class key", maxLength: 63, pattern: "^[A-Za-z][A-Za-z0-9_-]*$",
        first: isLetter, rest: { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2D }
    )
    static let functionKey = NameRule(
        noun: "function key", maxLength: 253, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
        first: isAlphanumeric, rest: { isAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    )
    static let bindingName = NameRule(
        noun: "binding name", maxLength: 63, pattern: "^[A-Za-z_][A-Za-z0-9_-]*$",
        first: { isLetter($0) || $0 == 0x5F }, rest: { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2D }
    )
    static let deploymentKey = NameRule(
        noun: "deployment key", maxLength: 253, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
        first: isAlphanumeric, rest: { isAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    )
    static let configKey = NameRule(
        noun: "environment variable name", maxLength: Int.max, pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
        first: { isLetter($0) || $0 == 0x5F }, rest: { isAlphanumeric($0) || $0 == 0x5F }
    )
}

enum ValueRules {
    /// Kubernetes quantity syntax: `<number><suffix>`, suffix one of `Ki Mi Gi Ti Pi Ei`, `n u m k M G T P E`,
    /// or a decimal exponent (`e3`, `E-2`). Negative quantities make no sense for resources and are refused.
    static func isQuantity(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") { index += 1 }
        var digitCount = 0
        while index < bytes.count, isDigit(bytes[index]) { index += 1; digitCount += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, isDigit(bytes[index]) { index += 1; digitCount += 1 }
        }
        guard digitCount > 0 else { return false }
        let suffix = String(decoding: bytes[index...], as: UTF8.self)
        let known: Set<String> = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"]
        if known.contains(suffix) { return true }
        // Decimal exponent: e/E, optional sign, digits.
        var exponent = Array(suffix.utf8)
        guard let marker = exponent.first, marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") else { return false }
        exponent.removeFirst()
        if let sign = exponent.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { exponent.removeFirst() }
        return !exponent.isEmpty && exponent.allSatisfy(isDigit)
    }

    /// The problem with a URL whose scheme must be one of `schemes`, or nil if it is fine.
    static func urlProblem(_ text: String, schemes: [String]) -> String? {
        let expected = schemes.joined(separator: ", ")
        guard !text.isEmpty else { return "must not be empty" }
        guard let colon = text.firstIndex(of: ":") else { return "'\(text)' is not a URL: expected a \(expected) URL" }
        let scheme = text[..<colon].lowercased()
        if scheme == "oci" { return "'\(text)': oci:// modules are not supported yet (use \(expected))" }
        guard schemes.contains(scheme) else { return "'\(text)': unsupported URL scheme '\(scheme)', expected \(expected)" }
        guard let components = URLComponents(string: text) else { return "'\(text)' is not a valid URL" }
        if scheme == "file" {
            return components.path.isEmpty ? "'\(text)' is not a valid file URL: no path" : nil
        }
        return (components.host ?? "").isEmpty ? "'\(text)' is not a valid URL: no host" : nil
    }

    /// Template names and aliases a hint may use (spec §11.1).
    static let templateNames: Set<String> = [
        "dev", "edge", "cloud", "k8s_deployment", "deployment", "k8s", "full", "knative", "kn", "knsvc",
    ]
}
