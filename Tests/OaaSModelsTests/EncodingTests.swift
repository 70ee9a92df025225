import Foundation
import OaaSModels
import Testing

/// A deployment with every field set, server-owned ones included.
private let fullDeployment = OClassDeployment(
    key: "cart",
    packageName: "shop",
    classKey: "Cart",
    targetEnvs: ["oaas-1", "oaas-2"],
    availableEnvs: ["oaas-3"],
    nfrRequirements: NfrRequirements(minThroughputRps: 500, availability: 0.999, cpuUtilizationTarget: 0.7, maxLatencyMs: 50),
    envTemplates: ["oaas-1": "cloud", "oaas-2": "edge"],
    functions: [
        FunctionDeploymentSpec(
            functionKey: "Cart.total",
            description: "sum",
            availableLocation: "eu",
            qosRequirement: QosRequirement(throughput: 10, availability: 0.9),
            provisionConfig: ProvisionConfig(
                containerImage: "img:1.0", port: 9090, maxConcurrency: 8, needHttp2: true, cpuRequest: "100m",
                memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "1Gi", minScale: 1, maxScale: 3, wasmFuel: 5
            ),
            config: ["A": "1", "B": "true"]
        ),
    ],
    odgm: OdgmDataSpec(
        collections: ["shop.Cart"], partitionCount: 4, replicaCount: 3, shardType: "raft",
        envNodeIds: ["oaas-2": [9, 10], "oaas-1": [7]], options: ["event_publish": "true"], log: "debug",
        zenohMode: "peer", storageSize: "1Gi", storageClass: "fast"
    ),
    telemetry: TelemetryConfig(enabled: true, traces: true, metrics: false, logs: nil, samplingRate: 0.25, serviceName: "cart", resourceAttributes: ["team": "a"]),
    enforcement: EnforcementConfig(mode: .enforce, dimensions: [.replicas, .cpu]),
    condition: .running,
    status: DeploymentStatusSummary(
        replicationFactor: 3,
        selectedEnvs: ["oaas-1", "oaas-2"],
        achievedQuorumAvailability: 0.9974,
        lastError: "boom",
        envs: ["oaas-1": EnvDeploymentState(unitId: "cart-50be1b45", dispatch: .accepted, condition: .running, message: "ok", lastError: nil, attempts: 2, lastAttemptAt: "2025-01-01T00:00:00Z")],
        nfrRecommendations: ["oaas-1": .object([DocumentMember("note", .string("x")), DocumentMember("replicas", .number("3"))])]
    ),
    revision: 1_736_000_000_000,
    createdAt: "2025-01-01T00:00:00Z",
    updatedAt: "2025-01-02T00:00:00Z"
)

@Suite struct EncodingTests {
    @Test func jsonHasSpecFieldOrderAndSnakeCase() throws {
        let json = ModelEncoder().json(exampleModel.classes[0])
        #expect(json == #"{"key":"Cart","state_spec":{"key_specs":[],"default_provider":"","serialization_format":"","consistency_model":"STRONG","persistent":true},"function_bindings":[{"name":"add","function_key":"Cart.add","access_modifier":"PUBLIC","stateless":false,"parameters":[]},{"name":"total","function_key":"Cart.total","access_modifier":"PUBLIC","stateless":true,"parameters":[]}],"options":{}}"#)
    }

    @Test func mapsAreSortedSoOutputIsDeterministic() {
        let a = OdgmDataSpec(envNodeIds: ["b": [2], "a": [1]], options: ["z": "1", "m": "2", "a": "3"])
        let json = ModelEncoder().json(a)
        #expect(json == #"{"collections":[],"env_node_ids":{"a":[1],"b":[2]},"options":{"a":"3","m":"2","z":"1"}}"#)
    }

    @Test func packagesOmitEmptyDeployments() {
        let json = ModelEncoder().json(OPackage(name: "p"))
        #expect(json == #"{"name":"p","metadata":{"tags":[]},"classes":[],"functions":[],"dependencies":[]}"#)
    }

    @Test func prettyJSON() {
        let json = ModelEncoder(prettyJSON: true).json(KeySpecification(name: "n", keyType: "t"))
        #expect(json == "{\n  \"name\": \"n\",\n  \"key_type\": \"t\"\n}")
    }

    @Test func jsonRoundTripOfEveryField() throws {
        let json = ModelEncoder().json(fullDeployment)
        let back = try ModelDecoder(mode: .stored).decodeDeployment(json, format: .json)
        #expect(back.value == fullDeployment)
        #expect(back.warnings.isEmpty)
        // Same bytes again: deterministic.
        #expect(ModelEncoder().json(back.value) == json)
    }

    @Test func yamlRoundTripOfEveryField() throws {
        let yaml = try ModelEncoder().yaml(fullDeployment)
        let back = try ModelDecoder(mode: .stored).decodeDeployment(yaml, format: .yaml)
        #expect(back.value == fullDeployment)
        #expect(back.warnings.isEmpty)
    }

    @Test func exampleRoundTripsThroughBothFormats() throws {
        let model = try ModelDecoder().decodePackage(exampleYAML).value
        let yaml = try ModelEncoder().yaml(model)
        let json = ModelEncoder(prettyJSON: true).json(model)
        #expect(try ModelDecoder().decodePackage(yaml, format: .yaml).value == model)
        #expect(try ModelDecoder().decodePackage(json, format: .json).value == model)
        // YAML output is readable as input with no warnings.
        #expect(try ModelDecoder(strict: true).decodePackage(yaml).warnings.isEmpty)
    }

    @Test func yamlQuotesStringsThatLookLikeOtherTypes() throws {
        let package = OPackage(
            name: "p", version: "1.0",
            functions: [OFunction(key: "f", config: ["A": "80", "B": "true", "C": "null", "D": "", "E": "yes", "F": "2024-01-01", "G": "plain"])]
        )
        let yaml = try ModelEncoder().yaml(package)
        #expect(yaml.contains("version: '1.0'"))
        #expect(yaml.contains("A: '80'"))
        #expect(yaml.contains("B: 'true'"))
        #expect(yaml.contains("G: plain"))
        #expect(try ModelDecoder().decodePackage(yaml).value == package)

        let tricky = OPackage(name: "p", metadata: PackageMetadata(
            description: " leading space, key: value # not a comment\nsecond line\ttab 'quotes' \"double\" é 😀 ",
            tags: ["- dash", "[bracket]", "{brace}", "&anchor", "*alias", "!tag", "%percent", "@at", "`tick`", "|pipe", ">gt", "~"]
        ))
        #expect(try ModelDecoder().decodePackage(try ModelEncoder().yaml(tricky), format: .yaml).value == tricky)
    }

    @Test func multiDocumentYAMLOutput() throws {
        let documents: [ModelDocument] = [.package(OPackage(name: "p")), .deployment(OClassDeployment(key: "d", packageName: "p", classKey: "C"))]
        let yaml = try ModelEncoder().yaml(documents: documents)
        #expect(yaml.contains("\n---\n"))
        #expect(try ModelDecoder(mode: .stored).decodeDocuments(yaml).value == documents)
    }

    @Test func codableBridgeMatchesTheModelCoders() throws {
        let data = try JSONEncoder().encode(fullDeployment)
        let back = try JSONDecoder().decode(OClassDeployment.self, from: data)
        #expect(back == fullDeployment)
        let package = try JSONDecoder().decode(OPackage.self, from: Data(exampleJSON.utf8))
        #expect(package == exampleModel)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(OPackage.self, from: Data(#"{"name":"p","classes":"x"}"#.utf8))
        }
    }

    @Test func nonFiniteNumbersBecomeNull() {
        let json = ModelEncoder().json(NfrRequirements(availability: .nan, cpuUtilizationTarget: .infinity))
        #expect(json == #"{"availability":null,"cpu_utilization_target":null}"#)
    }

    @Test func stringEscapingInJSON() throws {
        let metadata = PackageMetadata(description: "quote \" backslash \\ newline \n tab \t bell \u{07} é")
        let json = ModelEncoder().json(metadata)
        #expect(json == #"{"description":"quote \" backslash \\ newline \n tab \t bell \u0007 é","tags":[]}"#)
        let back = try ModelDecoder().decodePackage(#"{"name":"p","metadata":"# + json + "}").value.metadata
        #expect(back == metadata)
    }
}
