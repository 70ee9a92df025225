/// Reading numbers from their source text, in the spellings JSON and YAML 1.1 allow
/// (`1_000`, `0x1F`, `0o17`, `0b101`, `.inf`), and in strings ("3", "0.99") as the reference's files write them.
enum NumberText {
    /// A signed integer as sign and magnitude, if the text is one (also an integral float such as `4.0` or `1e3`);
    /// nil for non-numbers and for integers beyond 64 bits (see `isOversizedInteger`).
    static func integer(_ raw: String) -> (negative: Bool, magnitude: UInt64)? {
        var text = raw.trimmingASCIIWhitespace().replacingUnderscores()
        var negative = false
        if text.hasPrefix("-") {
            negative = true
            text.removeFirst()
        } else if text.hasPrefix("+") {
            text.removeFirst()
        }
        guard !text.isEmpty else { return nil }
        let lower = text.lowercased()
        let radixPrefixes: [(String, Int)] = [("0x", 16), ("0o", 8), ("0b", 2)]
        for (prefix, radix) in radixPrefixes where lower.hasPrefix(prefix) {
            guard let value = UInt64(lower.dropFirst(2), radix: radix) else { return nil }
            return (negative && value != 0, value)
        }
        if let value = UInt64(text) { return (negative && value != 0, value) }
        // An integral float ("4.0", "1e3") is accepted where an integer is expected.
        guard let double = Double(text), double.isFinite, double == double.rounded(.towardZero),
              double < 18_446_744_073_709_551_616.0 else { return nil }
        let value = UInt64(double)
        return (negative && value != 0, value)
    }

    /// True if the text is a decimal integer too large for 64 bits (so the message can say "out of range").
    static func isOversizedInteger(_ raw: String) -> Bool {
        var text = raw.trimmingASCIIWhitespace().replacingUnderscores()
        if text.hasPrefix("-") || text.hasPrefix("+") { text.removeFirst() }
        return !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && UInt64(text) == nil
    }

    /// A floating-point value, if the text is one (YAML's `.inf`/`.nan` included).
    static func double(_ raw: String) -> Double? {
        let text = raw.trimmingASCIIWhitespace().replacingUnderscores()
        switch text.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        case ".nan": return .nan
        default: break
        }
        if let integer = integer(text), !text.lowercased().contains("e"), !text.contains(".") {
            let magnitude = Double(integer.magnitude)
            return integer.negative ? -magnitude : magnitude
        }
        return Double(text)
    }

    /// The number in JSON syntax (`0x1F` → `31`, `1_000` → `1000`), or nil if JSON cannot spell it.
    static func jsonNumber(_ raw: String) -> String? {
        if isJSONNumber(raw) { return raw }
        if let integer = integer(raw), !raw.contains("."), !raw.lowercased().hasSuffix("e") {
            return (integer.negative ? "-" : "") + String(integer.magnitude)
        }
        if let double = double(raw), double.isFinite { return double.description }
        return nil
    }

    /// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func isJSONNumber(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            return false
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }

    /// A boolean spelled as JSON, YAML 1.1 or a string in a reference file writes it.
    static func bool(_ raw: String) -> Bool? {
        switch raw.trimmingASCIIWhitespace().lowercased() {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        default: nil
        }
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }

    fileprivate func replacingUnderscores() -> String {
        contains("_") ? String(filter { $0 != "_" }) : self
    }
}
