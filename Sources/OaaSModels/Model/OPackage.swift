/// A package: classes, functions and the packages it depends on (spec §2.2).
public struct OPackage: Sendable, Equatable, Codable {
    /// Package id (rules in spec §3).
    public var name: String
    /// Free text (`version: 1.2` in YAML is the string "1.2").
    public var version: String?
    public var metadata: PackageMetadata
    public var classes: [OClass]
    public var functions: [OFunction]
    /// Names of packages that must already exist.
    public var dependencies: [String]
    /// Allowed in files for `package apply -d`; never stored with the package.
    public var deployments: [OClassDeployment]

    public init(
        name: String,
        version: String? = nil,
        metadata: PackageMetadata = PackageMetadata(),
        classes: [OClass] = [],
        functions: [OFunction] = [],
        dependencies: [String] = [],
        deployments: [OClassDeployment] = []
    ) {
        self.name = name
        self.version = version
        self.metadata = metadata
        self.classes = classes
        self.functions = functions
        self.dependencies = dependencies
        self.deployments = deployments
    }

    /// The class with this key, if any.
    public func `class`(_ key: String) -> OClass? { classes.first { $0.key == key } }

    /// The function with this key, if any.
    public func function(_ key: String) -> OFunction? { functions.first { $0.key == key } }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

/// Descriptive data of a package; the timestamps are stamped by PM (`created_at` survives updates).
public struct PackageMetadata: Sendable, Equatable, Codable {
    public var author: String?
    public var description: String?
    /// Used by the package list filter.
    public var tags: [String]
    /// RFC 3339; server-owned.
    public var createdAt: String?
    /// RFC 3339; server-owned.
    public var updatedAt: String?

    public init(
        author: String? = nil,
        description: String? = nil,
        tags: [String] = [],
        createdAt: String? = nil,
        updatedAt: String? = nil
    ) {
        self.author = author
        self.description = description
        self.tags = tags
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

extension OPackage: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            name: object.string("name") ?? "",
            version: object.string("version"),
            metadata: object.object("metadata", PackageMetadata.init(reading:)) ?? PackageMetadata(),
            classes: object.objects("classes", OClass.init(reading:)) ?? [],
            functions: object.objects("functions", OFunction.init(reading:)) ?? [],
            dependencies: object.stringList("dependencies") ?? [],
            deployments: object.objects("deployments", OClassDeployment.init(reading:)) ?? []
        )
    }

    /// Packages are written without `deployments` when there are none (PM never stores them).
    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("name", name)
        writer.add("version", version)
        writer.add("metadata", metadata)
        writer.add("classes", classes)
        writer.add("functions", functions)
        writer.add("dependencies", dependencies)
        if !deployments.isEmpty { writer.add("deployments", deployments) }
        return writer.value
    }
}

extension PackageMetadata: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            author: object.string("author"),
            description: object.string("description"),
            tags: object.stringList("tags") ?? [],
            createdAt: object.serverOwned("created_at") { $0.string() },
            updatedAt: object.serverOwned("updated_at") { $0.string() }
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("author", author)
        writer.add("description", description)
        writer.add("tags", tags)
        writer.add("created_at", createdAt)
        writer.add("updated_at", updatedAt)
        return writer.value
    }
}
