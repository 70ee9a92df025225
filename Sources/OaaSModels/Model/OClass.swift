/// A class of a package: its state and its methods (spec §2.2).
public struct OClass: Sendable, Equatable, Codable {
    /// Class key, unique in the package.
    public var key: String
    public var description: String?
    public var stateSpec: StateSpecification?
    /// The methods of the class.
    public var functionBindings: [FunctionBinding]
    /// Class-invariant ODGM collection options (data-plane §9.3).
    public var options: [String: String]

    public init(
        key: String,
        description: String? = nil,
        stateSpec: StateSpecification? = nil,
        functionBindings: [FunctionBinding] = [],
        options: [String: String] = [:]
    ) {
        self.key = key
        self.description = description
        self.stateSpec = stateSpec
        self.functionBindings = functionBindings
        self.options = options
    }

    /// The consistency model of the state (NONE without a state spec).
    public var consistency: ConsistencyModel { stateSpec?.consistencyModel ?? .none }

    /// Keys of the bound functions, each once, in first-binding order (spec §5.1).
    public var boundFunctionKeys: [String] {
        var seen = Set<String>()
        return functionBindings.map(\.functionKey).filter { seen.insert($0).inserted }
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

/// State of a class (spec §2.2). Key specs, provider and format are accepted and not consumed.
public struct StateSpecification: Sendable, Equatable, Codable {
    public var keySpecs: [KeySpecification]
    public var defaultProvider: String
    public var serializationFormat: String
    /// STRONG selects shard type `raft` with an odd replica count ≥ 3 (spec §5.2).
    public var consistencyModel: ConsistencyModel
    /// ODGM data on a persistent volume (spec §11.4).
    public var persistent: Bool

    public init(
        keySpecs: [KeySpecification] = [],
        defaultProvider: String = "",
        serializationFormat: String = "",
        consistencyModel: ConsistencyModel = .none,
        persistent: Bool = false
    ) {
        self.keySpecs = keySpecs
        self.defaultProvider = defaultProvider
        self.serializationFormat = serializationFormat
        self.consistencyModel = consistencyModel
        self.persistent = persistent
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

public struct KeySpecification: Sendable, Equatable, Codable {
    public var name: String
    public var keyType: String

    public init(name: String, keyType: String) {
        self.name = name
        self.keyType = keyType
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

/// A method of a class, bound to a function of the package (spec §2.2).
public struct FunctionBinding: Sendable, Equatable, Codable {
    /// Method name = invocation route key.
    public var name: String
    /// A function of this package.
    public var functionKey: String
    public var accessModifier: FunctionAccessModifier
    /// Route hint: the method needs no object state.
    public var stateless: Bool
    public var parameters: [String]

    public init(
        name: String,
        functionKey: String,
        accessModifier: FunctionAccessModifier = .public,
        stateless: Bool = false,
        parameters: [String] = []
    ) {
        self.name = name
        self.functionKey = functionKey
        self.accessModifier = accessModifier
        self.stateless = stateless
        self.parameters = parameters
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

extension OClass: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            key: object.string("key") ?? "",
            description: object.string("description"),
            stateSpec: object.object("state_spec", StateSpecification.init(reading:)),
            functionBindings: object.objects("function_bindings", FunctionBinding.init(reading:)) ?? [],
            options: object.stringMap("options") ?? [:]
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("key", key)
        writer.add("description", description)
        writer.add("state_spec", stateSpec)
        writer.add("function_bindings", functionBindings)
        writer.add("options", options)
        return writer.value
    }
}

extension StateSpecification: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            keySpecs: object.objects("key_specs", KeySpecification.init(reading:)) ?? [],
            defaultProvider: object.string("default_provider") ?? "",
            serializationFormat: object.string("serialization_format") ?? "",
            consistencyModel: object.enumeration("consistency_model", ConsistencyModel.self) ?? .none,
            persistent: object.bool("persistent") ?? false
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("key_specs", keySpecs)
        writer.add("default_provider", defaultProvider)
        writer.add("serialization_format", serializationFormat)
        writer.add("consistency_model", consistencyModel)
        writer.add("persistent", persistent)
        return writer.value
    }
}

extension KeySpecification: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(name: object.string("name") ?? "", keyType: object.string("key_type") ?? "")
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("name", name)
        writer.add("key_type", keyType)
        return writer.value
    }
}

extension FunctionBinding: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            name: object.string("name") ?? "",
            functionKey: object.string("function_key") ?? "",
            accessModifier: object.enumeration("access_modifier", FunctionAccessModifier.self) ?? .public,
            stateless: object.bool("stateless") ?? false,
            parameters: object.stringList("parameters") ?? []
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("name", name)
        writer.add("function_key", functionKey)
        writer.add("access_modifier", accessModifier)
        writer.add("stateless", stateless)
        writer.add("parameters", parameters)
        return writer.value
    }
}
