/// A function of a package (spec §2.2).
public struct OFunction: Sendable, Equatable, Codable {
    /// Function key (convention `Class.method`), unique in the package.
    public var key: String
    public var functionType: FunctionType
    public var description: String?
    public var provisionConfig: ProvisionConfig?
    /// Injected as container env (spec §11.3).
    public var config: [String: String]

    public init(
        key: String,
        functionType: FunctionType = .custom,
        description: String? = nil,
        provisionConfig: ProvisionConfig? = nil,
        config: [String: String] = [:]
    ) {
        self.key = key
        self.functionType = functionType
        self.description = description
        self.provisionConfig = provisionConfig
        self.config = config
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

/// How a function is provisioned (spec §2.2).
public struct ProvisionConfig: Sendable, Equatable, Codable {
    /// Image run on Kubernetes.
    public var containerImage: String?
    /// http(s)/file URL of a WASI component run inside ODGM.
    public var wasmModuleUrl: String?
    /// An externally run `oprc.OprcFunction` endpoint; never provisioned.
    public var endpointUrl: String?
    /// Container port (spec §11.3 decides the default).
    public var port: UInt16?
    /// 0 = unlimited.
    public var maxConcurrency: UInt32
    public var needHttp2: Bool
    /// Kubernetes quantities; the template decides when absent.
    public var cpuRequest: String?
    public var memoryRequest: String?
    public var cpuLimit: String?
    public var memoryLimit: String?
    /// Function replica bounds, passed through untouched by PM.
    public var minScale: UInt32?
    public var maxScale: UInt32?
    /// Per-invocation fuel (the runtime's default is 1e9).
    public var wasmFuel: UInt64?

    public init(
        containerImage: String? = nil,
        wasmModuleUrl: String? = nil,
        endpointUrl: String? = nil,
        port: UInt16? = nil,
        maxConcurrency: UInt32 = 0,
        needHttp2: Bool = false,
        cpuRequest: String? = nil,
        memoryRequest: String? = nil,
        cpuLimit: String? = nil,
        memoryLimit: String? = nil,
        minScale: UInt32? = nil,
        maxScale: UInt32? = nil,
        wasmFuel: UInt64? = nil
    ) {
        self.containerImage = containerImage
        self.wasmModuleUrl = wasmModuleUrl
        self.endpointUrl = endpointUrl
        self.port = port
        self.maxConcurrency = maxConcurrency
        self.needHttp2 = needHttp2
        self.cpuRequest = cpuRequest
        self.memoryRequest = memoryRequest
        self.cpuLimit = cpuLimit
        self.memoryLimit = memoryLimit
        self.minScale = minScale
        self.maxScale = maxScale
        self.wasmFuel = wasmFuel
    }

    /// True if the config names something that can run (an image, a WASM module or an endpoint).
    public var hasRunnableSource: Bool {
        [containerImage, wasmModuleUrl, endpointUrl].contains { !($0 ?? "").isEmpty }
    }

    /// Field-wise overlay (spec §5.1): every field `other` sets wins. `max_concurrency` and `need_http2` have
    /// no "unset", so they win when they differ from their defaults (0, false).
    public func overlaid(by other: ProvisionConfig?) -> ProvisionConfig {
        guard let other else { return self }
        var result = self
        result.containerImage = other.containerImage ?? containerImage
        result.wasmModuleUrl = other.wasmModuleUrl ?? wasmModuleUrl
        result.endpointUrl = other.endpointUrl ?? endpointUrl
        result.port = other.port ?? port
        result.maxConcurrency = other.maxConcurrency != 0 ? other.maxConcurrency : maxConcurrency
        result.needHttp2 = other.needHttp2 || needHttp2
        result.cpuRequest = other.cpuRequest ?? cpuRequest
        result.memoryRequest = other.memoryRequest ?? memoryRequest
        result.cpuLimit = other.cpuLimit ?? cpuLimit
        result.memoryLimit = other.memoryLimit ?? memoryLimit
        result.minScale = other.minScale ?? minScale
        result.maxScale = other.maxScale ?? maxScale
        result.wasmFuel = other.wasmFuel ?? wasmFuel
        return result
    }

    public init(from decoder: any Decoder) throws { self = try Self.decoded(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try documentValue.encode(to: encoder) }
}

extension OFunction: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            key: object.string("key") ?? "",
            functionType: object.enumeration("function_type", FunctionType.self) ?? .custom,
            description: object.string("description"),
            provisionConfig: object.object("provision_config", ProvisionConfig.init(reading:)),
            config: object.stringMap("config") ?? [:]
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("key", key)
        writer.add("function_type", functionType)
        writer.add("description", description)
        writer.add("provision_config", provisionConfig)
        writer.add("config", config)
        return writer.value
    }
}

extension ProvisionConfig: ObjectReadable {
    init(reading object: ObjectReader) {
        self.init(
            containerImage: object.string("container_image"),
            wasmModuleUrl: object.string("wasm_module_url"),
            endpointUrl: object.string("endpoint_url"),
            port: object.uint16("port"),
            maxConcurrency: object.uint32("max_concurrency") ?? 0,
            needHttp2: object.bool("need_http2") ?? false,
            cpuRequest: object.string("cpu_request"),
            memoryRequest: object.string("memory_request"),
            cpuLimit: object.string("cpu_limit"),
            memoryLimit: object.string("memory_limit"),
            minScale: object.uint32("min_scale"),
            maxScale: object.uint32("max_scale"),
            wasmFuel: object.uint64("wasm_fuel")
        )
    }

    public var documentValue: DocumentValue {
        var writer = ObjectWriter()
        writer.add("container_image", containerImage)
        writer.add("wasm_module_url", wasmModuleUrl)
        writer.add("endpoint_url", endpointUrl)
        writer.add("port", port)
        writer.add("max_concurrency", maxConcurrency)
        writer.add("need_http2", needHttp2)
        writer.add("cpu_request", cpuRequest)
        writer.add("memory_request", memoryRequest)
        writer.add("cpu_limit", cpuLimit)
        writer.add("memory_limit", memoryLimit)
        writer.add("min_scale", minScale)
        writer.add("max_scale", maxScale)
        writer.add("wasm_fuel", wasmFuel)
        return writer.value
    }
}
