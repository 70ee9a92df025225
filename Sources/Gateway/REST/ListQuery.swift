import Foundation
import HummingbirdCore
import OaaSCore
import OaaSProto

/// Query parameters of the list routes (spec §8.2): `prefix`, `limit`, `cursor`, `kind`.
struct ListQuery: Sendable {
    static let defaultLimit: UInt32 = 100
    static let maxLimit: UInt32 = 1000

    enum Kind: String, Sendable {
        case all, numeric, string
    }

    var prefix: String?
    var limit: UInt32
    var cursor: Data?
    var kind: Kind

    init(_ uri: URI) throws(OaaSError) {
        let parameters = uri.queryParameters
        let prefix = parameters["prefix"].map(String.init)
        self.prefix = prefix?.isEmpty == false ? prefix : nil

        if let raw = parameters["limit"] {
            guard PathIdentity.isDigits(raw), let value = UInt32(raw) else {
                throw OaaSError(.invalidArgument, "limit '\(raw)' is not a u32")
            }
            limit = value == 0 ? Self.defaultLimit : min(value, Self.maxLimit)
        } else {
            limit = Self.defaultLimit
        }

        if let raw = parameters["cursor"], !raw.isEmpty {
            guard let bytes = Base64URL.decode(raw) else {
                throw OaaSError(.invalidArgument, "cursor is not base64url without padding")
            }
            cursor = bytes
        } else {
            cursor = nil
        }

        if let raw = parameters["kind"] {
            guard let value = Kind(rawValue: String(raw)) else {
                throw OaaSError(.invalidArgument, "kind '\(raw)' must be all, numeric or string")
            }
            kind = value
        } else {
            kind = .all
        }
    }

    var entryKeyKind: Oprc_EntryKeyKind {
        switch kind {
        case .all: .all
        case .numeric: .numeric
        case .string: .string
        }
    }

    var objectIdKind: Oprc_ObjectIdKind {
        switch kind {
        case .all: .all
        case .numeric: .numeric
        case .string: .string
        }
    }
}

/// base64url without padding (RFC 4648 §5), the REST form of list cursors.
enum Base64URL {
    static func encode(_ data: Data) -> String {
        var text = data.base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.last == "=" { text.removeLast() }
        return text
    }

    /// Strict: only the URL-safe alphabet, no padding, no impossible length.
    static func decode(_ text: some StringProtocol) -> Data? {
        var standard = ""
        standard.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9": standard.unicodeScalars.append(scalar)
            case "-": standard.append("+")
            case "_": standard.append("/")
            default: return nil
            }
        }
        switch standard.utf8.count % 4 {
        case 1: return nil
        case 2: standard += "=="
        case 3: standard += "="
        default: break
        }
        return Data(base64Encoded: standard)
    }
}
