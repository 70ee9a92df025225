import Foundation
import OaaSModels
import Testing

@Suite struct DecodingTests {
    @Test func exampleYAMLDecodesToTheExpectedModel() throws {
        let decoded = try ModelDecoder().decodePackage(exampleYAML, format: .yaml)
        #expect(decoded.value == exampleModel)
        #expect(decoded.warnings.isEmpty)
        // Spot checks with exact values, so a wrong fixture cannot hide a wrong decoder.
        #expect(decoded.value.version == "1.2")
        #expect(decoded.value.classes[0].functionBindings[1].stateless == true)
        #expect(decoded.value.classes[0].functionBindings[0].accessModifier == .public)
        #expect(decoded.value.functions[1].functionType == .custom)
        #expect(decoded.value.functions[1].provisionConfig?.port == 8080)
        #expect(decoded.value.deployments[0].nfrRequirements.availability == 0.999)
        #expect(decoded.value.deployments[0].odgm?.partitionCount == 4)
    }

    @Test func exampleJSONAndYAMLDecodeToIdenticalModels() throws {
        let fromYAML = try ModelDecoder().decodePackage(exampleYAML, format: .yaml).value
        let fromJSON = try ModelDecoder().decodePackage(exampleJSON, format: .json).value
        #expect(fromJSON == fromYAML)
        // Sniffing picks the same formats.
        #expect(try ModelDecoder().decodePackage(exampleJSON).value == fromYAML)
        #expect(try ModelDecoder().decodePackage(exampleYAML).value == fromYAML)
        #expect(try ModelDecoder().decodePackage(Data(exampleJSON.utf8)).value == fromYAML)
    }

    @Test func scalarsFillStringFieldsFromTheirSourceText() throws {
        let yaml = """
        name: 123
        version: 1.0
        functions:
        - key: f
          provision_config: {container_image: img}
          config: {HTTP_PORT: 80, RATIO: 0.50, FLAG: yes, OFF: false, HEX: 0x1F, EMPTY: ~, TEXT: "007"}
        """
        let package = try ModelDecoder().decodePackage(yaml, format: .yaml).value
        #expect(package.name == "123")
        #expect(package.version == "1.0")
        #expect(package.functions[0].config == [
            "HTTP_PORT": "80", "RATIO": "0.50", "FLAG": "yes", "OFF": "false", "HEX": "0x1F", "EMPTY": "", "TEXT": "007",
        ])
        let json = #"{"name":"p","version":1.0,"functions":[{"key":"f","config":{"HTTP_PORT":80,"DEBUG":true,"BIG":1e3}}]}"#
        let fromJSON = try ModelDecoder().decodePackage(json, format: .json).value
        #expect(fromJSON.version == "1.0")
        #expect(fromJSON.functions[0].config == ["HTTP_PORT": "80", "DEBUG": "true", "BIG": "1e3"])
    }

    @Test func numbersAndBooleansWrittenAsStringsAreAccepted() throws {
        let yaml = """
        key: d
        package_name: p
        class_key: C
        nfr_requirements: {min_throughput_rps: "100", availability: "0.99", max_latency_ms: '20'}
        odgm: {partition_count: "8", replica_count: "3", env_node_ids: {e1: ["7", 9]}}
        telemetry: {enabled: "false", sampling_rate: "0.5"}
        functions:
        - function_key: f
          provision_config: {port: "9000", need_http2: "true", max_concurrency: "4", wasm_fuel: "1000000", min_scale: 1_0}
        """
        let deployment = try ModelDecoder().decodeDeployment(yaml, format: .yaml).value
        #expect(deployment.nfrRequirements == NfrRequirements(minThroughputRps: 100, availability: 0.99, maxLatencyMs: 20))
        #expect(deployment.odgm?.partitionCount == 8)
        #expect(deployment.odgm?.replicaCount == 3)
        #expect(deployment.odgm?.envNodeIds == ["e1": [7, 9]])
        #expect(deployment.telemetry?.enabled == false)
        #expect(deployment.telemetry?.samplingRate == 0.5)
        let provision = try #require(deployment.functions.first?.provisionConfig)
        #expect(provision.port == 9000)
        #expect(provision.needHttp2 == true)
        #expect(provision.maxConcurrency == 4)
        #expect(provision.wasmFuel == 1_000_000)
        #expect(provision.minScale == 10)
    }

    @Test func defaultsApplyToAbsentFields() throws {
        let package = try ModelDecoder().decodePackage("name: p\nclasses: [{key: C, function_bindings: [{name: m, function_key: f}]}]\nfunctions: [{key: f}]").value
        #expect(package.version == nil)
        #expect(package.metadata == PackageMetadata())
        #expect(package.dependencies == [])
        #expect(package.classes[0].stateSpec == nil)
        #expect(package.classes[0].consistency == .none)
        #expect(package.classes[0].options == [:])
        let binding = package.classes[0].functionBindings[0]
        #expect(binding.accessModifier == .public && binding.stateless == false && binding.parameters == [])
        #expect(package.functions[0].functionType == .custom)
        #expect(package.functions[0].provisionConfig == nil)

        let deployment = try ModelDecoder().decodeDeployment(#"{"key":"d","package_name":"p","class_key":"C","telemetry":{},"enforcement":{}}"#).value
        #expect(deployment.targetEnvs == [] && deployment.availableEnvs == [] && deployment.functions == [])
        #expect(deployment.nfrRequirements.isEmpty)
        #expect(deployment.odgm == nil)
        #expect(deployment.condition == .pending)
        #expect(deployment.telemetry == TelemetryConfig(enabled: true))
        #expect(deployment.enforcement == EnforcementConfig(mode: .observe, dimensions: [.replicas]))
        let state = try ModelDecoder().decodePackage("name: p\nclasses: [{key: C, state_spec: {}}]").value.classes[0].stateSpec
        #expect(state == StateSpecification(keySpecs: [], defaultProvider: "", serializationFormat: "", consistencyModel: .none, persistent: false))
    }

    @Test func enumsAreCaseInsensitiveOnInput() throws {
        let yaml = """
        name: p
        classes:
        - key: C
          state_spec: {consistency_model: read_your_write}
          function_bindings:
          - {name: a, function_key: f, access_modifier: Public}
          - {name: b, function_key: f, access_modifier: internal}
          - {name: c, function_key: f, access_modifier: PRIVATE}
        functions: [{key: f, function_type: wasm}]
        """
        let package = try ModelDecoder().decodePackage(yaml).value
        #expect(package.classes[0].stateSpec?.consistencyModel == .readYourWrite)
        #expect(package.classes[0].functionBindings.map(\.accessModifier) == [.public, .internal, .private])
        #expect(package.functions[0].functionType == .wasm)
        // Output is SCREAMING.
        let json = ModelEncoder().json(package)
        #expect(json.contains(#""access_modifier":"PUBLIC""#))
        #expect(json.contains(#""consistency_model":"READ_YOUR_WRITE""#))
    }

    @Test func unknownKeysAreWarningsWithTheirFullPath() throws {
        let yaml = """
        key: cart
        package_name: shop
        class_key: Cart
        color: blue
        odgm: {partition_count: 2, features: [x]}
        functions: [{function_key: f, provision_config: {gpu: 1}}]
        """
        let decoded = try ModelDecoder().decodeDeployment(yaml)
        #expect(decoded.warnings == [
            "unknown field 'color' ignored",
            "unknown field 'odgm.features' ignored",
            "unknown field 'functions[0].provision_config.gpu' ignored",
        ])
        #expect(decoded.value.odgm?.partitionCount == 2)

        let package = try ModelDecoder().decodePackage("name: p\ndeployments: [{key: d, package_name: p, class_key: C, odgm: {features: 1}}]")
        #expect(package.warnings == ["unknown field 'deployments[0].odgm.features' ignored"])
    }

    @Test func strictModeTurnsUnknownKeysIntoErrors() throws {
        let error = try #require(deploymentDecodeError("key: d\npackage_name: p\nclass_key: C\nodgm: {features: 1}\nextra: 2", strict: true))
        #expect(error.code == .validationFailed)
        #expect(error.field == "odgm.features")
        #expect(error.message == "odgm.features: unknown field")
        #expect(error.details.map(\.field) == ["odgm.features", "extra"])
        #expect(error.httpStatus == 400)
    }

    @Test func serverOwnedFieldsAreIgnoredOnInputAndReadFromStorage() throws {
        let json = """
        {"key":"d","package_name":"p","class_key":"C","condition":"RUNNING","revision":42,
         "created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-02T00:00:00Z",
         "status":{"replication_factor":3,"selected_envs":["a"],"envs":{"a":{"unit_id":"d-1234abcd","dispatch":"accepted","condition":"RUNNING","attempts":1}}}}
        """
        let input = try ModelDecoder().decodeDeployment(json)
        #expect(input.warnings.isEmpty)
        #expect(input.value.condition == .pending)
        #expect(input.value.status == nil)
        #expect(input.value.revision == nil)
        #expect(input.value.createdAt == nil && input.value.updatedAt == nil)

        let stored = try ModelDecoder(mode: .stored).decodeDeployment(json).value
        #expect(stored.condition == .running)
        #expect(stored.revision == 42)
        #expect(stored.createdAt == "2024-01-01T00:00:00Z")
        #expect(stored.status?.replicationFactor == 3)
        #expect(stored.status?.envs["a"] == EnvDeploymentState(unitId: "d-1234abcd", dispatch: .accepted, condition: .running, attempts: 1))

        let package = try ModelDecoder().decodePackage("name: p\nmetadata: {author: me, created_at: '2020-01-01T00:00:00Z', updated_at: x}")
        #expect(package.value.metadata == PackageMetadata(author: "me"))
        #expect(package.warnings.isEmpty)
    }

    @Test func typeErrorsNameTheirPath() throws {
        let yaml = """
        name: shop
        classes:
        - key: Cart
          function_bindings:
          - {name: add, function_key: Cart.add}
          - {name: [oops], function_key: Cart.add}
        """
        let error = try #require(packageDecodeError(yaml))
        #expect(error.code == .badRequest)
        #expect(error.field == "classes[0].function_bindings[1].name")
        #expect(error.message == "classes[0].function_bindings[1].name: expected a string, found a list")
    }

    @Test func everyDecodeProblemIsCollected() throws {
        let yaml = """
        key: d
        package_name: p
        class_key: C
        target_envs: oops
        nfr_requirements: {availability: high, min_throughput_rps: -1, max_latency_ms: 99999999999}
        odgm: {partition_count: 1.5, shard_type: {a: b}}
        enforcement: {mode: always, dimensions: [replicas, gpu]}
        """
        let error = try #require(deploymentDecodeError(yaml))
        #expect(error.details.map(\.description) == [
            "target_envs: expected a list, found a string",
            "nfr_requirements.availability: expected a number, found 'high'",
            "nfr_requirements.min_throughput_rps: must be an integer in 0...4294967295, found '-1'",
            "nfr_requirements.max_latency_ms: must be an integer in 0...4294967295, found '99999999999'",
            "odgm.partition_count: expected an integer, found '1.5'",
            "odgm.shard_type: expected a string, found an object",
            "enforcement.mode: unknown value 'always', expected one of off, observe, enforce",
            "enforcement.dimensions[1]: unknown value 'gpu', expected one of replicas, cpu, memory",
        ])
        #expect(error.field == "target_envs")
    }

    @Test func portOutsideUInt16IsARangeError() throws {
        let error = try #require(packageDecodeError("name: p\nfunctions: [{key: f, provision_config: {port: 70000}}]"))
        #expect(error.code == .validationFailed)
        #expect(error.message == "functions[0].provision_config.port: must be an integer in 0...65535, found '70000'")
    }

    @Test func badEnumValueNamesTheAllowedOnes() throws {
        let error = try #require(packageDecodeError(#"{"name":"p","functions":[{"key":"f","function_type":"LAMBDA"}]}"#))
        #expect(error.field == "functions[0].function_type")
        #expect(error.message == "functions[0].function_type: unknown value 'LAMBDA', expected one of BUILTIN, CUSTOM, MACRO, LOGICAL, WASM")
    }

    @Test func duplicateKeysAreReported() throws {
        let json = #"{"name":"p","classes":[{"key":"A","key":"B"}]}"#
        let error = try #require(packageDecodeError(json, format: .json))
        #expect(error.field == "classes[0].key")
        #expect(error.message == "classes[0].key: duplicate key")
        let mapError = try #require(packageDecodeError(#"{"name":"p","functions":[{"key":"f","config":{"A":"1","A":"2"}}]}"#))
        #expect(mapError.field == #"functions[0].config["A"]"#)
        // YAML duplicates are refused by the parser.
        let yamlError = try #require(packageDecodeError("name: p\nname: q", format: .yaml))
        #expect(yamlError.code == .badRequest)
    }

    @Test func syntaxErrorsAreBadRequests() throws {
        let json = try #require(packageDecodeError("{\"name\": \"p\",\n  \"classes\": [1,]}", format: .json))
        #expect(json.code == .badRequest)
        #expect(json.field == nil)
        #expect(json.message.hasPrefix("invalid JSON at line 2, column"))
        let yaml = try #require(packageDecodeError("name: [unclosed", format: .yaml))
        #expect(yaml.code == .badRequest)
        #expect(yaml.message.hasPrefix("invalid YAML"))
        #expect(packageDecodeError("", format: .json)?.message == "empty document")
        #expect(packageDecodeError("   \n", format: .yaml)?.message == "empty document")
        #expect(packageDecodeError("[1, 2]")?.message == "expected an object at the top level, found a list")
        #expect(packageDecodeError("name: a\n---\nname: b")?.message == "expected a single document, found 2 YAML documents")
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(packageDecodeError(deep, format: .json)?.code == .badRequest)
        #expect(packageDecodeError(deep, format: .yaml)?.code == .badRequest)
    }

    @Test func aliasesAndMergeKeysAreResolved() throws {
        let yaml = """
        name: p
        functions:
        - &base {key: a, provision_config: {container_image: img, port: 80}}
        - <<: *base
          key: b
        """
        let package = try ModelDecoder().decodePackage(yaml).value
        #expect(package.functions.map(\.key) == ["a", "b"])
        #expect(package.functions[1].provisionConfig == ProvisionConfig(containerImage: "img", port: 80))
    }

    @Test func aliasBombsAreRefused() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        yaml += "name: p\n"
        let error = packageDecodeError(yaml, format: .yaml)
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains("too large") == true)
    }

    @Test func jsonStringEscapesAreDecoded() throws {
        let json = #"{"name":"p","metadata":{"description":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}}"#
        let package = try ModelDecoder().decodePackage(json).value
        #expect(package.metadata.description == "a\"b\\c/d\né😀")
        #expect(packageDecodeError(#"{"name":"\ud800"}"#)?.code == .badRequest)
        #expect(packageDecodeError("{\"name\":\"a\u{01}\"}")?.code == .badRequest)
        #expect(packageDecodeError(#"{"name": 01}"#)?.code == .badRequest)
    }

    @Test func byteOrderMarkIsSkipped() throws {
        #expect(try ModelDecoder().decodePackage("\u{FEFF}{\"name\":\"p\"}").value.name == "p")
        #expect(try ModelDecoder().decodePackage("\u{FEFF}name: p").value.name == "p")
    }

    @Test func formatSniffingAndMediaTypes() {
        #expect(DocumentFormat.sniff("  \n{\"a\":1}") == .json)
        #expect(DocumentFormat.sniff("[1]") == .json)
        #expect(DocumentFormat.sniff("name: p") == .yaml)
        #expect(DocumentFormat(mediaType: "application/json; charset=utf-8") == .json)
        #expect(DocumentFormat(mediaType: "text/x-yaml") == .yaml)
        #expect(DocumentFormat(mediaType: "application/x-yaml") == .yaml)
        #expect(DocumentFormat(mediaType: "text/plain") == nil)
    }

    @Test func multiDocumentFilesForTheCLI() throws {
        let yaml = """
        name: shop
        classes: [{key: Cart}]
        deployments:
        - {key: cart, class_key: Cart}
        ---
        key: cart2
        package_name: shop
        class_key: Cart
        ---
        - {key: a, package_name: shop, class_key: Cart}
        - {key: b, package_name: shop, class_key: Cart, odgm: {feature: 1}}
        ---
        """
        let decoded = try ModelDecoder().decodeDocuments(yaml)
        #expect(decoded.value.count == 4)
        guard case let .package(package) = decoded.value[0] else {
            Issue.record("first document is not a package")
            return
        }
        #expect(package.name == "shop")
        #expect(package.deployments.map(\.key) == ["cart"])
        #expect(package.deployments[0].packageName == "")
        #expect(decoded.value.flatMap(\.deployments).map(\.key) == ["cart", "cart2", "a", "b"])
        #expect(decoded.warnings == ["document 3: unknown field '[1].odgm.feature' ignored"])

        let single = try ModelDecoder().decodeDocuments(#"[{"key":"x","package_name":"p","class_key":"C"}]"#)
        #expect(single.value == [.deployment(OClassDeployment(key: "x", packageName: "p", classKey: "C"))])

        #expect(throws: ModelError.self) { try ModelDecoder().decodeDocuments("just: text") }
        #expect(throws: ModelError.self) { try ModelDecoder().decodeDocuments("") }
    }

    @Test func listsOfModels() throws {
        let packages = try ModelDecoder(mode: .stored).decodePackages(#"[{"name":"a"},{"name":"b"}]"#).value
        #expect(packages.map(\.name) == ["a", "b"])
        let deployments = try ModelDecoder().decodeDeployments("- {key: a, package_name: p, class_key: C}").value
        #expect(deployments == [OClassDeployment(key: "a", packageName: "p", classKey: "C")])
    }

    @Test func invalidUTF8IsABadRequest() {
        do {
            _ = try ModelDecoder().decodePackage(Data([0x7B, 0xFF, 0xFE, 0x7D]))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .badRequest)
            #expect(error.message == "body is not valid UTF-8")
        }
    }
}
