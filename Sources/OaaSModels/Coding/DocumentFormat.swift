/// The text format of a document.
public enum DocumentFormat: String, Sendable, CaseIterable {
    case json
    case yaml

    /// PM's rule for bodies without a usable content type (spec §4.1): `{` or `[` first ⇒ JSON, else YAML.
    public static func sniff(_ text: String) -> DocumentFormat {
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ", "\t", "\n", "\r", "\u{FEFF}": continue
            case "{", "[": return .json
            default: return .yaml
            }
        }
        return .yaml
    }

    /// The format a media type names (parameters such as `; charset=utf-8` ignored); nil for others.
    public init?(mediaType: String) {
        let essence = mediaType.split(separator: ";").first.map { String($0).trimmingASCIIWhitespace().lowercased() } ?? ""
        switch essence {
        case "application/json": self = .json
        case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml": self = .yaml
        default: return nil
        }
    }
}
