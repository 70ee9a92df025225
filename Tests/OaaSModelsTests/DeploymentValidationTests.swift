import OaaSModels
import Testing

private let envs: Set<String> = ["oaas-1", "oaas-2"]

private func validate(_ deployment: OClassDeployment, package: OPackage? = exampleModel, knownEnvs: Set<String>? = envs) -> ValidationReport {
    ModelValidator.validate(deployment: deployment, package: package, knownEnvs: knownEnvs)
}

private let base = OClassDeployment(key: "cart", packageName: "shop", classKey: "Cart")

@Suite struct DeploymentValidationTests {
    @Test func theSpecExampleDeploymentIsValid() {
        #expect(validate(exampleModel.deployments[0]).isValid)
        var full = base
        full.targetEnvs = ["oaas-1"]
        full.availableEnvs = ["oaas-1", "oaas-2"]
        full.envTemplates = ["oaas-1": "K8S", "oaas-2": "knsvc"]
        full.functions = [FunctionDeploymentSpec(functionKey: "Cart.total", config: ["X": "1"])]
        full.odgm = OdgmDataSpec(collections: ["shop.Cart", "shop.Cart2"], partitionCount: 4096, replicaCount: 50, shardType: "raft", envNodeIds: ["oaas-1": [1, 2]], storageSize: "10Gi")
        full.telemetry = TelemetryConfig(samplingRate: 1)
        full.enforcement = EnforcementConfig(mode: .enforce, dimensions: [.cpu, .memory])
        #expect(lines(validate(full)) == [])
    }

    @Test func missingPackageIsNotFound() throws {
        let error = try #require(validate(base, package: nil).error)
        #expect(error.code == .notFound)
        #expect(error.httpStatus == 404)
        #expect(error.field == "package_name")
        #expect(error.message == "package_name: package 'shop' not found")
    }

    @Test func missingClassIsAValidationError() throws {
        var deployment = base
        deployment.classKey = "Order"
        let error = try #require(validate(deployment).error)
        #expect(error.code == .validationFailed)
        #expect(error.field == "class_key")
        #expect(error.message == "class_key: class 'Order' is not defined in package 'shop'")
    }

    @Test func requiredFields() {
        let report = validate(OClassDeployment(key: "", packageName: "", classKey: ""), package: nil)
        #expect(lines(report) == ["key: is required", "package_name: is required", "class_key: is required"])
        #expect(lines(validate(OClassDeployment(key: "bad key", packageName: "shop", classKey: "Cart"))) == [
            "key: 'bad key' is not a valid deployment key: must match ^[A-Za-z0-9][A-Za-z0-9._-]*$",
        ])
        #expect(validate(OClassDeployment(key: "shop.cart_v1-a", packageName: "shop", classKey: "Cart")).isValid)
    }

    @Test func unknownEnvsHaveTheirOwnCode() throws {
        var deployment = base
        deployment.targetEnvs = ["oaas-1", "oaas-9", "oaas-1"]
        deployment.availableEnvs = ["edge-7"]
        deployment.envTemplates = ["oaas-3": "cloud", "oaas-2": "mainframe"]
        deployment.odgm = OdgmDataSpec(envNodeIds: ["nowhere": [1]])
        let report = validate(deployment)
        #expect(lines(report) == [
            "target_envs[1]: env 'oaas-9' is not configured (configured: oaas-1, oaas-2)",
            "target_envs[2]: duplicate env 'oaas-1'",
            "available_envs[0]: env 'edge-7' is not configured (configured: oaas-1, oaas-2)",
            #"env_templates["oaas-2"]: unknown template 'mainframe', expected dev, edge, cloud, knative or an alias"#,
            #"env_templates["oaas-3"]: env 'oaas-3' is not configured (configured: oaas-1, oaas-2)"#,
            #"odgm.env_node_ids["nowhere"]: env 'nowhere' is not configured (configured: oaas-1, oaas-2)"#,
        ])
        #expect(report.issues.map(\.code) == [.unknownEnv, .validationFailed, .unknownEnv, .validationFailed, .unknownEnv, .unknownEnv])
        #expect(report.error?.code == .unknownEnv)
        // Without configured envs (CLI) only the shape is checked.
        #expect(lines(validate(deployment, knownEnvs: nil)) == [
            "target_envs[2]: duplicate env 'oaas-1'",
            #"env_templates["oaas-2"]: unknown template 'mainframe', expected dev, edge, cloud, knative or an alias"#,
        ])
    }

    @Test func nfrRanges() {
        var deployment = base
        deployment.nfrRequirements = NfrRequirements(minThroughputRps: 0, availability: 1.5, cpuUtilizationTarget: 0, maxLatencyMs: 0)
        #expect(lines(validate(deployment)) == [
            "nfr_requirements.min_throughput_rps: must be at least 1, found 0",
            "nfr_requirements.availability: must be in (0, 1], found 1.5",
            "nfr_requirements.cpu_utilization_target: must be in (0, 1], found 0.0",
            "nfr_requirements.max_latency_ms: must be at least 1, found 0",
        ])
        deployment.nfrRequirements = NfrRequirements(minThroughputRps: 1, availability: 1, cpuUtilizationTarget: 0.01, maxLatencyMs: 1)
        #expect(validate(deployment).isValid)
        deployment.nfrRequirements = NfrRequirements(availability: .nan)
        #expect(lines(validate(deployment)) == ["nfr_requirements.availability: must be in (0, 1], found nan"])
    }

    @Test func odgmRanges() {
        var deployment = base
        deployment.odgm = OdgmDataSpec(
            collections: ["a", "", "a", String(repeating: "x", count: 254)],
            partitionCount: 0,
            replicaCount: 51,
            shardType: "paxos",
            envNodeIds: ["oaas-1": [5, 0], "oaas-2": [5]],
            storageSize: "lots"
        )
        #expect(lines(validate(deployment)) == [
            "odgm.collections[1]: must not be empty",
            "odgm.collections[2]: duplicate collection 'a'",
            "odgm.collections[3]: collection name must be at most 253 characters (found 254)",
            "odgm.partition_count: must be in 1...4096, found 0",
            "odgm.replica_count: must be in 1...50, found 51",
            "odgm.shard_type: unknown shard type 'paxos', expected one of mst, raft, none, basic, single",
            #"odgm.env_node_ids["oaas-1"][1]: node ids must be greater than 0"#,
            #"odgm.env_node_ids["oaas-2"][0]: duplicate node id 5"#,
            "odgm.storage_size: 'lots' is not a Kubernetes quantity (e.g. 1Gi, 500Mi)",
        ])
        deployment.odgm = OdgmDataSpec(partitionCount: 4097)
        #expect(lines(validate(deployment)) == ["odgm.partition_count: must be in 1...4096, found 4097"])
    }

    @Test func singleReplicaShardTypesRefuseMoreReplicas() {
        var deployment = base
        deployment.odgm = OdgmDataSpec(replicaCount: 3, shardType: "none")
        #expect(lines(validate(deployment)) == ["odgm.replica_count: shard type 'none' has exactly one replica, found replica_count 3"])
        deployment.odgm = OdgmDataSpec(replicaCount: 1, shardType: "single")
        #expect(validate(deployment).isValid)
    }

    @Test func functionOverridesMustBeBoundAndUnique() {
        var deployment = base
        deployment.functions = [
            FunctionDeploymentSpec(functionKey: "Cart.add"),
            FunctionDeploymentSpec(functionKey: "Order.ship"),
            FunctionDeploymentSpec(functionKey: "Cart.add"),
            FunctionDeploymentSpec(functionKey: ""),
            FunctionDeploymentSpec(
                functionKey: "Cart.total",
                provisionConfig: ProvisionConfig(endpointUrl: "grpc://x", cpuRequest: "fast", minScale: 3, maxScale: 1),
                config: ["no-dash": "1"]
            ),
        ]
        #expect(lines(validate(deployment)) == [
            "functions[1].function_key: function 'Order.ship' is not bound by class 'Cart'",
            "functions[2].function_key: duplicate function 'Cart.add' (first at functions[0])",
            "functions[3].function_key: is required",
            "functions[4].provision_config.endpoint_url: 'grpc://x': unsupported URL scheme 'grpc', expected http, https",
            "functions[4].provision_config.cpu_request: 'fast' is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1G)",
            "functions[4].provision_config.min_scale: min_scale (3) must not exceed max_scale (1)",
            #"functions[4].config["no-dash"]: 'no-dash' is not a valid environment variable name: must match ^[A-Za-z_][A-Za-z0-9_]*$"#,
        ])
    }

    @Test func telemetryAndEnforcement() {
        var deployment = base
        deployment.telemetry = TelemetryConfig(samplingRate: 1.5)
        deployment.enforcement = EnforcementConfig(mode: .observe, dimensions: [.replicas, .cpu, .replicas])
        #expect(lines(validate(deployment)) == [
            "telemetry.sampling_rate: must be in [0, 1], found 1.5",
            "enforcement.dimensions[2]: duplicate dimension 'replicas'",
        ])
    }
}
