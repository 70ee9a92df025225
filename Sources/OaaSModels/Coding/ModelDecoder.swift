import Foundation

/// A decoded value and the warnings decoding produced (unknown fields, spec §2 rule 3).
public struct Decoded<Value: Sendable>: Sendable {
    public var value: Value
    public var warnings: [String]

    public init(value: Value, warnings: [String] = []) {
        self.value = value
        self.warnings = warnings
    }
}

extension Decoded: Equatable where Value: Equatable {}

/// One document of a file given to `package apply` / `deploy apply` (spec §15).
public enum ModelDocument: Sendable, Equatable {
    case package(OPackage)
    case deployment(OClassDeployment)

    /// The deployments this document carries: the package's `deployments`, or the deployment itself.
    public var deployments: [OClassDeployment] {
        switch self {
        case let .package(package): package.deployments
        case let .deployment(deployment): [deployment]
        }
    }
}

/// The one decoder of package and deployment documents, shared by PM and CLI (spec §2 decoding rules).
///
/// JSON and YAML decode to the same models; scalars fill string fields from their source text; numbers and
/// booleans written as strings fill numeric and boolean fields; unknown keys are warnings (errors when `strict`);
/// server-owned fields are ignored on input. Every problem is collected; the first is the primary one.
public struct ModelDecoder: Sendable {
    public enum Mode: Sendable, Equatable {
        /// A user's document: server-owned fields are ignored, unknown keys reported.
        case input
        /// PM's own stored JSON: every field is read, unknown keys are ignored silently.
        case stored
    }

    public var mode: Mode
    /// Unknown keys are errors (`?strict=true`).
    public var strict: Bool

    public init(mode: Mode = .input, strict: Bool = false) {
        self.mode = mode
        self.strict = strict
    }

    // MARK: - Single documents (PM bodies)

    /// A package from JSON or YAML text (`format` nil = sniffed as PM does).
    public func decodePackage(_ text: String, format: DocumentFormat? = nil) throws(ModelError) -> Decoded<OPackage> {
        try decodeSingle(text, format: format, OPackage.init(reading:))
    }

    public func decodePackage(_ data: Data, format: DocumentFormat? = nil) throws(ModelError) -> Decoded<OPackage> {
        try decodePackage(try Self.text(data), format: format)
    }

    /// A deployment from JSON or YAML text.
    public func decodeDeployment(_ text: String, format: DocumentFormat? = nil) throws(ModelError) -> Decoded<OClassDeployment> {
        try decodeSingle(text, format: format, OClassDeployment.init(reading:))
    }

    public func decodeDeployment(_ data: Data, format: DocumentFormat? = nil) throws(ModelError) -> Decoded<OClassDeployment> {
        try decodeDeployment(try Self.text(data), format: format)
    }

    /// A list of packages (a stored or listed array).
    public func decodePackages(_ text: String, format: DocumentFormat? = nil) throws(ModelError) -> Decoded<[OPackage]> {
        try decodeSingleList(text, format: format, OPackage.init(reading:))
    }

    /// A list of deployments (a stored or listed array).
    public func decodeDeployments(_ text: String, format: DocumentFormat? = nil) throws(ModelError) -> Decoded<[OClassDeployment]> {
        try decodeSingleList(text, format: format, OClassDeployment.init(reading:))
    }

    // MARK: - Files (CLI)

    /// Every document of a file: YAML streams may hold several documents (`---`), each a package, a deployment
    /// or a list of deployments; JSON holds one such value. Empty documents are skipped.
    public func decodeDocuments(_ text: String, format: DocumentFormat? = nil) throws(ModelError) -> Decoded<[ModelDocument]> {
        let roots = try Self.parseAll(text, format: format ?? DocumentFormat.sniff(text)).filter { $0 != .null }
        let session = DecodeSession(mode: mode, strict: strict)
        var documents: [ModelDocument] = []
        for (position, root) in roots.enumerated() {
            session.messagePrefix = roots.count > 1 ? "document \(position + 1): " : ""
            let reader = ValueReader(value: root, path: .root, session: session, order: [position])
            switch root {
            case .array:
                for element in reader.list() ?? [] {
                    if let deployment = element.object(OClassDeployment.init(reading:)) {
                        documents.append(.deployment(deployment))
                    } else if element.value == .null {
                        element.fail("expected a deployment, found null")
                    }
                }
            case let .object(members):
                let keys = Set(members.map(\.key))
                let deploymentKeys: Set<String> = ["key", "class_key", "package_name"]
                if keys.contains("name") || (keys.isDisjoint(with: deploymentKeys) && (keys.contains("classes") || keys.contains("functions"))) {
                    reader.object(OPackage.init(reading:)).map { documents.append(.package($0)) }
                } else if !keys.isDisjoint(with: deploymentKeys) {
                    reader.object(OClassDeployment.init(reading:)).map { documents.append(.deployment($0)) }
                } else {
                    reader.fail("neither a package (needs 'name') nor a deployment (needs 'key' and 'class_key')")
                }
            default:
                reader.fail("expected a package, a deployment or a list of deployments, found \(root.kindName)")
            }
        }
        if roots.isEmpty { throw ModelError.badRequest("empty document") }
        return try finish(documents, session)
    }

    // MARK: - Internals

    private func decodeSingle<T: Sendable>(
        _ text: String,
        format: DocumentFormat?,
        _ read: (ObjectReader) -> T
    ) throws(ModelError) -> Decoded<T> {
        let root = try Self.parseOne(text, format: format ?? DocumentFormat.sniff(text))
        let session = DecodeSession(mode: mode, strict: strict)
        guard case .object = root else {
            throw ModelError.badRequest("expected an object at the top level, found \(root.kindName)")
        }
        let reader = ValueReader(value: root, path: .root, session: session)
        guard let value = reader.object(read) else { throw ModelError.badRequest("expected an object at the top level") }
        return try finish(value, session)
    }

    private func decodeSingleList<T: Sendable>(
        _ text: String,
        format: DocumentFormat?,
        _ read: (ObjectReader) -> T
    ) throws(ModelError) -> Decoded<[T]> {
        let root = try Self.parseOne(text, format: format ?? DocumentFormat.sniff(text))
        guard case .array = root else {
            throw ModelError.badRequest("expected a list at the top level, found \(root.kindName)")
        }
        let session = DecodeSession(mode: mode, strict: strict)
        let items = ValueReader(value: root, path: .root, session: session).list() ?? []
        let values = items.compactMap { item -> T? in
            if item.value == .null {
                item.fail("expected an object, found null")
                return nil
            }
            return item.object(read)
        }
        return try finish(values, session)
    }

    private func finish<T: Sendable>(_ value: T, _ session: DecodeSession) throws(ModelError) -> Decoded<T> {
        if let error = ModelError(issues: session.issues) { throw error }
        return Decoded(value: value, warnings: session.warnings)
    }

    static func text(_ data: Data) throws(ModelError) -> String {
        guard let text = String(data: data, encoding: .utf8) else { throw ModelError.badRequest("body is not valid UTF-8") }
        return text
    }

    /// Exactly one document (PM: several YAML documents where one is expected is a 400).
    static func parseOne(_ text: String, format: DocumentFormat) throws(ModelError) -> SourceValue {
        let roots = try parseAll(text, format: format)
        guard roots.count <= 1 else {
            throw ModelError.badRequest("expected a single document, found \(roots.count) YAML documents")
        }
        guard let root = roots.first, root != .null else { throw ModelError.badRequest("empty document") }
        return root
    }

    static func parseAll(_ text: String, format: DocumentFormat) throws(ModelError) -> [SourceValue] {
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        switch format {
        case .json:
            guard !body.trimmingASCIIWhitespace().isEmpty else { throw ModelError.badRequest("empty document") }
            do {
                return [try JSONSource.parse(body)]
            } catch {
                throw ModelError.badRequest(error.message)
            }
        case .yaml:
            do {
                return try YAMLSource.documents(body)
            } catch {
                throw ModelError.badRequest(error.message)
            }
        }
    }
}
