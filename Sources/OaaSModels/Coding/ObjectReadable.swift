/// A model read from an object by field name (the decoding half of every model type).
protocol ObjectReadable: DocumentRepresentable {
    init(reading object: ObjectReader)
}

extension ObjectReadable {
    /// `Decodable` through the same reader as `ModelDecoder` in stored mode, so a model nested in another
    /// Codable type decodes exactly like a stored document.
    static func decoded(from decoder: any Decoder) throws -> Self {
        let value = try DocumentValue(from: decoder)
        let session = DecodeSession(mode: .stored, strict: false)
        let reader = ValueReader(value: SourceValue(value), path: .root, session: session)
        let result = reader.object(Self.init(reading:))
        if let issue = session.issues.first {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: issue.description))
        }
        guard let result else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected an object"))
        }
        return result
    }
}
