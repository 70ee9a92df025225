import Foundation

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Order matters: Bool before numbers (so `true` is not 1), Int64 before Double (so integers stay exact).
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue {
    /// Parses JSON bytes.
    public init(jsonData: some Sequence<UInt8>) throws {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: Data(jsonData))
        } catch {
            throw KubeError.decoding("invalid JSON: \(error)")
        }
    }

    /// Compact JSON with sorted keys, so equal values always encode to equal bytes.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail except for non-finite doubles, which JSON cannot carry: write null.
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public func jsonString() -> String {
        String(decoding: jsonData(), as: UTF8.self)
    }

    /// Converts any `Encodable` into a JSON value (typed specs into the generic object model).
    public init(encoding value: some Encodable) throws {
        do {
            let data = try JSONEncoder().encode(value)
            self = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw KubeError.decoding("cannot encode \(type(of: value)): \(error)")
        }
    }

    /// Decodes this value as a typed `Decodable`.
    public func decode<T: Decodable>(as type: T.Type = T.self) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: jsonData())
        } catch {
            throw KubeError.decoding("cannot decode \(T.self): \(error)")
        }
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { jsonString() }
}
