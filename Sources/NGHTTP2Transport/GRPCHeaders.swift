import GRPCCore

/// Conversions between HTTP/2 header fields and GRPCCore's metadata and status, shared by server and client.
public enum GRPCHeaders {
    /// Header fields that belong to HTTP/2 or the gRPC protocol itself and are never user metadata.
    /// `grpc-timeout` is not among them: GRPCCore reads a server call's deadline from the request metadata.
    public static func isReserved(_ name: String) -> Bool {
        if name.hasPrefix(":") { return true }
        switch name {
        case "te", "content-type", "grpc-encoding", "grpc-accept-encoding",
             "grpc-status", "grpc-message", "connection", "keep-alive", "transfer-encoding", "upgrade":
            return true
        default:
            return false
        }
    }

    /// Adds one received field to `metadata`; `-bin` values are base64 (padded or not) and are dropped when invalid.
    public static func add(name: String, value: UnsafeRawBufferPointer, to metadata: inout Metadata) {
        if name.hasSuffix("-bin") {
            if let bytes = Base64.decode(value) { metadata.addBinary(bytes, forKey: name) }
        } else {
            metadata.addString(String(decoding: value, as: UTF8.self), forKey: name)
        }
    }

    /// Metadata as header fields (lower-case names, binary values base64-encoded).
    public static func fields(of metadata: Metadata) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(metadata.count)
        for (key, value) in metadata {
            let name = key.lowercased()
            if isReserved(name) { continue }
            switch value {
            case .string(let text):
                fields.append((name, text))
            case .binary(let bytes):
                fields.append((name.hasSuffix("-bin") ? name : name + "-bin", Base64.encode(bytes)))
            }
        }
        return fields
    }

    /// `grpc-message` percent-encoding: bytes outside printable ASCII, and `%` itself, become `%XX`.
    public static func percentEncode(_ message: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(message.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in message.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func percentDecode(_ encoded: String) -> String {
        let bytes = Array(encoded.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The gRPC code a client reports when a response is not HTTP 200 (gRPC's HTTP-to-gRPC status mapping).
    public static func code(forHTTPStatus status: Int) -> RPCError.Code {
        switch status {
        case 400: return .internalError
        case 401: return .unauthenticated
        case 403: return .permissionDenied
        case 404: return .unimplemented
        case 429, 502, 503, 504: return .unavailable
        default: return .unknown
        }
    }
}

/// Base64 for `-bin` metadata: standard alphabet, padding written, padding optional when read.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(index + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            if byte == UInt8(ascii: "=") { break }
            guard let value = sextet(byte) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}
