import Foundation

/// Writes models as JSON (PM responses and storage) or YAML (`-o yaml`). Keys come in the spec's field order and
/// maps sorted by key, so equal models always give equal bytes; the output decodes back to the same models.
public struct ModelEncoder: Sendable {
    /// Indented JSON (two spaces) instead of one line.
    public var prettyJSON: Bool

    public init(prettyJSON: Bool = false) {
        self.prettyJSON = prettyJSON
    }

    public func json(_ value: some DocumentRepresentable) -> String {
        JSONText.write(value.documentValue, pretty: prettyJSON)
    }

    public func jsonData(_ value: some DocumentRepresentable) -> Data {
        Data(json(value).utf8)
    }

    public func yaml(_ value: some DocumentRepresentable) throws(ModelError) -> String {
        do {
            return try YAMLSource.write(value.documentValue)
        } catch {
            throw ModelError.badRequest(error.message)
        }
    }

    /// Several YAML documents separated by `---` (e.g. a package followed by its deployments).
    public func yaml(documents: [any DocumentRepresentable]) throws(ModelError) -> String {
        do {
            return try YAMLSource.write(documents: documents.map(\.documentValue))
        } catch {
            throw ModelError.badRequest(error.message)
        }
    }

    public func encode(_ value: some DocumentRepresentable, as format: DocumentFormat) throws(ModelError) -> String {
        switch format {
        case .json: json(value)
        case .yaml: try yaml(value)
        }
    }
}

extension ModelDocument: DocumentRepresentable {
    public var documentValue: DocumentValue {
        switch self {
        case let .package(package): package.documentValue
        case let .deployment(deployment): deployment.documentValue
        }
    }
}
