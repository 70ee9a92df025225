import Foundation

/// A parsed JSON value that keeps object member order and number literals verbatim, so a u64 such as
/// 18446744073709551615 never passes through `Double` (which would round it).
enum JSONNode: Sendable, Equatable {
    case object([Member])
    case array([JSONNode])
    case string(String)
    /// The literal text of the number, already checked against the JSON number grammar.
    case number(String)
    case bool(Bool)
    case null

    struct Member: Sendable, Equatable {
        var key: String
        var value: JSONNode
    }

    /// A short name of the value's JSON type, for error messages.
    var kindName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

// MARK: - Parsing

struct JSONParseError: Error, Sendable {
    var offset: Int
    var reason: String
}

/// A strict RFC 8259 parser (no comments, no trailing commas, no NaN literals).
struct JSONNodeParser {
    /// Deep enough for any real message, shallow enough that recursion cannot exhaust the stack.
    static let maxDepth = 512

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    static func parse(_ data: Data) throws(JSONParseError) -> JSONNode {
        var parser = JSONNodeParser(bytes: [UInt8](data))
        return try parser.parseDocument()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONNode {
        // A UTF-8 byte order mark is tolerated, as most JSON readers do.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count { throw fail("unexpected data after the JSON value") }
        return value
    }

    private func fail(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONNode {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected character '\(printable(bytes[index]))'")
        }
    }

    private func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : String(format: "\\x%02X", byte)
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONParseError) {
        for expected in literal.utf8 {
            guard index < bytes.count, bytes[index] == expected else { throw fail("invalid literal, expected '\(literal)'") }
            index += 1
        }
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONNode {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [JSONNode.Member] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input inside an object") }
            guard bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a quoted member name") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after member name") }
            index += 1
            skipWhitespace()
            members.append(JSONNode.Member(key: key, value: try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input inside an object") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONNode {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONNode] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input inside an array") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        let start = index
        index += 1
        var buffer: [UInt8] = []
        while true {
            guard index < bytes.count else {
                index = start
                throw fail("unterminated string")
            }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let string = String(validating: buffer, as: UTF8.self) else {
                    index = start
                    throw fail("string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape(into: &buffer)
            case 0x00..<0x20:
                throw fail("unescaped control character in a string")
            default:
                buffer.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONParseError) {
        guard index < bytes.count else { throw fail("unterminated escape sequence") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(byte)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate in \\u escape")
                }
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail("unpaired surrogate in \\u escape")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
            buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            index -= 1
            throw fail("invalid escape sequence '\\\(printable(byte))'")
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw fail("leading zero in a number") }
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit after '.'") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit in the exponent") }
            skipDigits()
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    /// Whether `text` is a complete JSON number literal (used for numbers that did not come from this parser).
    static func isNumberLiteral(_ text: String) -> Bool {
        var parser = JSONNodeParser(bytes: Array(text.utf8))
        guard !parser.bytes.isEmpty, parser.bytes[0] == UInt8(ascii: "-") || parser.isDigit(parser.bytes[0]) else { return false }
        do {
            _ = try parser.parseNumber()
        } catch {
            return false
        }
        return parser.index == parser.bytes.count
    }
}

// MARK: - Serialization

extension JSONNode {
    /// Compact UTF-8 JSON text; member order is kept.
    var serialized: Data {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return Data(out)
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let string):
            Self.writeString(string, into: &out)
        case .number(let literal):
            out.append(contentsOf: literal.utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .null:
            out.append(contentsOf: "null".utf8)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func writeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - Foundation objects

/// A value in a `JSONSerialization`-style object that has no JSON form.
struct JSONConversionError: Error, Sendable {
    var path: String
    var reason: String
}

extension JSONNode {
    /// The value as `JSONSerialization` would produce it. Integers become `NSNumber`s holding an
    /// `Int64` or `UInt64`, so u64 values survive exactly (and `JSONSerialization` writes them exactly).
    var foundationObject: Any {
        switch self {
        case .object(let members):
            var dictionary: [String: Any] = [:]
            dictionary.reserveCapacity(members.count)
            for member in members { dictionary[member.key] = member.value.foundationObject }
            return dictionary
        case .array(let elements):
            return elements.map(\.foundationObject)
        case .string(let string):
            return string
        case .number(let literal):
            if let value = Int64(literal) { return NSNumber(value: value) }
            if let value = UInt64(literal) { return NSNumber(value: value) }
            return NSNumber(value: Double(literal) ?? 0)
        case .bool(let value):
            return value
        case .null:
            return NSNull()
        }
    }

    /// The class Foundation uses for boolean `NSNumber`s, which must not be read as 0 or 1.
    private static let booleanNumberType: AnyObject.Type = type(of: NSNumber(value: true))

    /// Converts a `JSONSerialization`-style object (or the Swift equivalents: `[String: Any]`, `[Any]`,
    /// `String`, `Bool`, integer and floating-point types, `NSNull`). Dictionary keys are sorted so that
    /// diagnostics are deterministic.
    init(foundationObject object: Any, path: String = "") throws(JSONConversionError) {
        if object is NSNull {
            self = .null
        } else if let string = object as? String {
            self = .string(string)
        } else if type(of: object) == Bool.self, let value = object as? Bool {
            self = .bool(value)
        } else if let number = object as? NSNumber {
            self = try Self.convert(number, path: path)
        } else if let dictionary = object as? [String: Any] {
            var members: [Member] = []
            members.reserveCapacity(dictionary.count)
            for key in dictionary.keys.sorted() {
                guard let value = dictionary[key] else { continue }
                members.append(Member(key: key, value: try JSONNode(foundationObject: value, path: ProtoJSONPath.member(path, key))))
            }
            self = .object(members)
        } else if let array = object as? [Any] {
            var elements: [JSONNode] = []
            elements.reserveCapacity(array.count)
            for (position, element) in array.enumerated() {
                elements.append(try JSONNode(foundationObject: element, path: ProtoJSONPath.element(path, position)))
            }
            self = .array(elements)
        } else {
            throw JSONConversionError(path: path, reason: "a value of type \(type(of: object)) has no JSON form")
        }
    }

    private static func convert(_ number: NSNumber, path: String) throws(JSONConversionError) -> JSONNode {
        if type(of: number) == booleanNumberType { return .bool(number.boolValue) }
        if let decimal = number as? NSDecimalNumber {
            let literal = decimal.stringValue
            guard JSONNodeParser.isNumberLiteral(literal) else {
                throw JSONConversionError(path: path, reason: "the number \(literal) has no JSON form")
            }
            return .number(literal)
        }
        switch String(cString: number.objCType) {
        case "c", "s", "i", "l", "q":
            return .number(String(number.int64Value))
        case "C", "S", "I", "L", "Q":
            return .number(String(number.uint64Value))
        case "f":
            return try convert(floatingPoint: Double(number.floatValue), literal: "\(number.floatValue)", path: path)
        default:
            return try convert(floatingPoint: number.doubleValue, literal: "\(number.doubleValue)", path: path)
        }
    }

    private static func convert(floatingPoint value: Double, literal: String, path: String) throws(JSONConversionError) -> JSONNode {
        guard value.isFinite else { throw JSONConversionError(path: path, reason: "the number \(value) has no JSON form") }
        // Integral values are written as integers: a JSON reader may have produced 5.0 for 5, and
        // integer fields must accept it. 2^53 is the largest range where a Double is exact.
        if value == value.rounded(), abs(value) <= 9_007_199_254_740_992 {
            return .number(String(Int64(value)))
        }
        guard JSONNodeParser.isNumberLiteral(literal) else {
            throw JSONConversionError(path: path, reason: "the number \(literal) has no JSON form")
        }
        return .number(literal)
    }
}

/// Field paths in error messages: `metadata.cls_id`, `shard_assignments[0].primary`, `entries_str["a b"]`.
enum ProtoJSONPath {
    static func member(_ base: String, _ key: String) -> String {
        let simple = !key.isEmpty && key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
        if !simple {
            let quoted = String(decoding: JSONNode.string(key).serialized, as: UTF8.self)
            return "\(base)[\(quoted)]"
        }
        return base.isEmpty ? key : "\(base).\(key)"
    }

    static func element(_ base: String, _ position: Int) -> String {
        "\(base)[\(position)]"
    }
}
