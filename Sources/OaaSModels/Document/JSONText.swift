/// Writes a `DocumentValue` as JSON text: members in their given order (deterministic), compact or indented by two.
enum JSONText {
    static func write(_ value: DocumentValue, pretty: Bool) -> String {
        var output = ""
        write(value, pretty: pretty, indent: 0, into: &output)
        return output
    }

    private static func write(_ value: DocumentValue, pretty: Bool, indent: Int, into output: inout String) {
        switch value {
        case .null:
            output += "null"
        case let .bool(flag):
            output += flag ? "true" : "false"
        case let .number(text):
            // A number that is not JSON (never produced by the models) is written as null, never as broken JSON.
            output += NumberText.jsonNumber(text) ?? "null"
        case let .string(text):
            writeString(text, into: &output)
        case let .array(items):
            guard !items.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (position, item) in items.enumerated() {
                if position > 0 { output += "," }
                newline(pretty, indent + 1, &output)
                write(item, pretty: pretty, indent: indent + 1, into: &output)
            }
            newline(pretty, indent, &output)
            output += "]"
        case let .object(members):
            guard !members.isEmpty else {
                output += "{}"
                return
            }
            output += "{"
            for (position, member) in members.enumerated() {
                if position > 0 { output += "," }
                newline(pretty, indent + 1, &output)
                writeString(member.key, into: &output)
                output += pretty ? ": " : ":"
                write(member.value, pretty: pretty, indent: indent + 1, into: &output)
            }
            newline(pretty, indent, &output)
            output += "}"
        }
    }

    private static func newline(_ pretty: Bool, _ indent: Int, _ output: inout String) {
        guard pretty else { return }
        output += "\n"
        output += String(repeating: "  ", count: indent)
    }

    static func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
