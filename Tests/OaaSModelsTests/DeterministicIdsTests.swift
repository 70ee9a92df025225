import OaaSModels
import Testing

@Suite struct DeterministicIdsTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (String(repeating: "a", count: 63), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (String(repeating: "a", count: 65), "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (String(repeating: "a", count: 119), "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (String(repeating: "a", count: 120), "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    ])
    func sha256Vectors(input: String, digest: String) {
        #expect(DeterministicIds.sha256Hex(input) == digest)
    }

    @Test func sha256OfOneMillionAs() {
        #expect(DeterministicIds.sha256Hex(String(repeating: "a", count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hex8() {
        #expect(DeterministicIds.hex8("cart/oaas-1") == "50be1b45")
        #expect(DeterministicIds.hex8("") == "e3b0c442")
    }

    @Test(arguments: [
        ("Cart", "cart"),
        ("shop.Cart", "shop-cart"),
        ("My_Very.Long Deployment", "my-very-long-deployment"),
        ("--a..b__c--", "a-b-c"),
        ("9lives", "a9lives"),
        ("-9-", "a9"),
        ("", "default"),
        ("___", "default"),
        ("Ünïcode", "n-code"),
        ("a---b", "a-b"),
    ])
    func dns1035(input: String, expected: String) {
        #expect(DeterministicIds.dns1035(input) == expected)
    }

    @Test func unitIds() {
        #expect(DeterministicIds.unitId(deploymentKey: "cart", env: "oaas-1") == "cart-50be1b45")
        let long = DeterministicIds.unitId(deploymentKey: "My_Very.Long Deployment Key For Testing Purposes", env: "oaas-1")
        #expect(long == "my-very-long-deployment-key-for-2bd55075")
        #expect(long.count == 40)
        // The 31-character cut ends in '-', which is trimmed.
        #expect(DeterministicIds.unitId(deploymentKey: String(repeating: "a", count: 30) + "-tail", env: "e") == String(repeating: "a", count: 30) + "-f5c5b61d")
        // Stable: same inputs, same id; another env, another id.
        #expect(DeterministicIds.unitId(deploymentKey: "cart", env: "oaas-1") == DeterministicIds.unitId(deploymentKey: "cart", env: "oaas-1"))
        #expect(DeterministicIds.unitId(deploymentKey: "cart", env: "oaas-2") != "cart-50be1b45")
    }

    @Test func odgmNodeIds() {
        #expect(DeterministicIds.odgmNodeId(deploymentKey: "cart", env: "oaas-1", ordinal: 0) == 6_025_271_711_014_039)
        #expect(DeterministicIds.odgmNodeId(deploymentKey: "cart", env: "oaas-1", ordinal: 1) == 4_466_379_059_324_260)
        #expect(DeterministicIds.odgmNodeId(deploymentKey: "cart", env: "oaas-2", ordinal: 0) == 7_754_420_636_185_011)
        // A collision rehashes with "/1".
        let rehashed = DeterministicIds.odgmNodeId(deploymentKey: "cart", env: "oaas-1", ordinal: 0, taken: [6_025_271_711_014_039])
        #expect(rehashed != 6_025_271_711_014_039)
        #expect(rehashed <= DeterministicIds.nodeIdMask && rehashed > 0)
        #expect(rehashed == DeterministicIds.odgmNodeId(deploymentKey: "cart", env: "oaas-1", ordinal: 0, taken: [6_025_271_711_014_039]))
    }

    @Test func envNodeIdsAreStableAndKeepExistingOnes() {
        let fresh = DeterministicIds.envNodeIds(deploymentKey: "cart", nodeEnvs: ["oaas-1", "oaas-2", "oaas-1"])
        #expect(fresh == ["oaas-1": [6_025_271_711_014_039, 4_466_379_059_324_260], "oaas-2": [7_754_420_636_185_011]])
        let kept = DeterministicIds.envNodeIds(deploymentKey: "cart", nodeEnvs: ["oaas-1", "oaas-1"], existing: ["oaas-1": [42], "gone": [7]])
        #expect(kept == ["oaas-1": [42, 4_466_379_059_324_260]])
        let shrunk = DeterministicIds.envNodeIds(deploymentKey: "cart", nodeEnvs: ["oaas-1"], existing: ["oaas-1": [42, 43]])
        #expect(shrunk == ["oaas-1": [42]])
    }

    @Test func shardAssignmentsRotatePrimaries() {
        let assignments = DeterministicIds.shardAssignments(nodeIds: [30, 10, 20, 10], partitionCount: 4, replicaCount: 3)
        #expect(assignments == [
            ShardAssignment(primary: 1, replica: [10, 20, 30], shardIds: [1, 2, 3]),
            ShardAssignment(primary: 4, replica: [20, 30, 10], shardIds: [4, 5, 6]),
            ShardAssignment(primary: 7, replica: [30, 10, 20], shardIds: [7, 8, 9]),
            ShardAssignment(primary: 10, replica: [10, 20, 30], shardIds: [10, 11, 12]),
        ])
        #expect(DeterministicIds.shardAssignments(nodeIds: [5], partitionCount: 2, replicaCount: 1) == [
            ShardAssignment(primary: 1, replica: [5], shardIds: [1]),
            ShardAssignment(primary: 2, replica: [5], shardIds: [2]),
        ])
        #expect(DeterministicIds.shardAssignments(nodeIds: [], partitionCount: 2, replicaCount: 1) == [])
    }
}

@Suite struct PlacementTests {
    private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool { abs(a - b) <= tolerance }

    @Test func quorumAvailability() {
        #expect(close(Placement.quorumAvailability([0.9, 0.9, 0.9]), 0.972))
        #expect(close(Placement.quorumAvailability([0.97, 0.97]), 0.9409))
        #expect(close(Placement.quorumAvailability([0.97, 0.97, 0.97]), 0.997354))
        #expect(close(Placement.quorumAvailability([0.5]), 0.5))
        #expect(close(Placement.quorumAvailability([0.9, 0.8, 0.7]), 0.902)) // .504 + .216 + .126 + .056
        #expect(Placement.quorumAvailability([]) == 0)
        #expect(close(Placement.quorumAvailability([1, 1, 0, 0]), 0)) // 2 of 4 is no majority
    }

    @Test func threeEnvsAtPointNineSevenNeedAllThree() {
        let candidates = ["a", "b", "c"].map { EnvAvailability(env: $0, availability: 0.97) }
        #expect(Placement.selectEnvs(candidates: candidates, target: 0.99) == ["a", "b", "c"])
        let plan = Placement.plan(explicitTargets: [], candidates: candidates, availabilityTarget: 0.99,
                                  explicitReplicaCount: nil, explicitShardType: nil, consistency: .none)
        #expect(plan.selectedEnvs == ["a", "b", "c"])
        #expect(plan.replicaCount == 3)
        #expect(plan.shardType == "mst")
        #expect(plan.nodeEnvs == ["a", "b", "c"])
        #expect((plan.achievedQuorumAvailability * 10_000).rounded() / 10_000 == 0.9974)
        #expect(close(Placement.quorumAvailability([0.97, 0.97]), 0.9409))
    }

    @Test func selectionTakesTheShortestPrefixBestFirst() {
        let candidates = [
            EnvAvailability(env: "b", availability: 0.95),
            EnvAvailability(env: "a", availability: 0.999),
            EnvAvailability(env: "c", availability: 0.999),
        ]
        #expect(Placement.selectEnvs(candidates: candidates, target: 0.99) == ["a"])
        #expect(Placement.selectEnvs(candidates: candidates, target: 0.9999) == ["a", "c", "b"])
        // Unreachable target: all candidates.
        #expect(Placement.selectEnvs(candidates: candidates, target: 1.0) == ["a", "c", "b"])
        // The stored selection is preferred.
        #expect(Placement.selectEnvs(candidates: candidates, target: 0.9, previous: ["b"]) == ["b"])
        #expect(Placement.selectEnvs(candidates: [], target: 0.9) == [])
    }

    @Test func strongConsistencyGivesOddReplicasOfAtLeastThree() {
        let one = Placement.plan(explicitTargets: ["local"], candidates: [], availabilityTarget: nil,
                                 explicitReplicaCount: nil, explicitShardType: nil, consistency: .strong)
        #expect(one.shardType == "raft")
        #expect(one.replicaCount == 3)
        #expect(one.nodeEnvs == ["local", "local", "local"])
        #expect(close(one.achievedQuorumAvailability, Placement.quorumAvailability([0.99, 0.99, 0.99])))
        let expected: [(UInt32?, Int, UInt32)] = [(nil, 1, 3), (nil, 2, 3), (nil, 3, 3), (nil, 4, 5), (6, 1, 7), (5, 1, 5), (50, 1, 49)]
        for (explicit, envCount, replicas) in expected {
            #expect(Placement.replicaCount(explicit: explicit, selectedEnvCount: envCount, consistency: .strong, shardType: "raft") == replicas)
        }
        let two = Placement.plan(explicitTargets: ["x", "y"], candidates: [], availabilityTarget: nil,
                                 explicitReplicaCount: nil, explicitShardType: nil, consistency: .strong)
        #expect(two.replicaCount == 3)
        #expect(two.nodeEnvs == ["x", "y", "x"])
    }

    @Test func explicitReplicaCountIsKept() {
        #expect(Placement.replicaCount(explicit: 4, selectedEnvCount: 1, consistency: .none, shardType: "mst") == 4)
        #expect(Placement.replicaCount(explicit: 2, selectedEnvCount: 3, consistency: .readYourWrite, shardType: "mst") == 2)
        #expect(Placement.replicaCount(explicit: nil, selectedEnvCount: 2, consistency: .none, shardType: "mst") == 2)
        #expect(Placement.replicaCount(explicit: 60, selectedEnvCount: 1, consistency: .none, shardType: "mst") == 50)
        let plan = Placement.plan(explicitTargets: ["a", "b"], candidates: [], availabilityTarget: nil,
                                  explicitReplicaCount: 5, explicitShardType: nil, consistency: .none)
        #expect(plan.replicaCount == 5)
        #expect(plan.nodeEnvs == ["a", "b", "a", "b", "a"])
    }

    @Test func singleReplicaShardTypesHaveOneReplica() {
        for shard in ["none", "basic", "single"] {
            #expect(Placement.replicaCount(explicit: nil, selectedEnvCount: 3, consistency: .none, shardType: shard) == 1)
            #expect(Placement.replicaCount(explicit: nil, selectedEnvCount: 3, consistency: .strong, shardType: shard) == 1)
        }
        let plan = Placement.plan(explicitTargets: ["a", "b"], candidates: [], availabilityTarget: nil,
                                  explicitReplicaCount: nil, explicitShardType: "none", consistency: .strong)
        #expect(plan.shardType == "none")
        #expect(plan.replicaCount == 1)
        #expect(plan.nodeEnvs == ["a"])
    }

    @Test func shardTypeDefaults() {
        #expect(Placement.shardType(explicit: nil, consistency: .strong) == "raft")
        #expect(Placement.shardType(explicit: nil, consistency: .boundedStaleness) == "mst")
        #expect(Placement.shardType(explicit: "basic", consistency: .strong) == "basic")
    }

    @Test func envAvailabilityFallbacks() {
        #expect(Placement.envAvailability(reported: 0.37, readyNodes: 1, nodeCount: 2) == 0.37)
        #expect(Placement.envAvailability(reported: nil, readyNodes: 3, nodeCount: 4) == 0.75)
        #expect(Placement.envAvailability(reported: nil, readyNodes: nil, nodeCount: 0) == 0.99)
        #expect(Placement.envAvailability(reported: nil, readyNodes: nil, nodeCount: nil, assumed: 0.5) == 0.5)
    }

    @Test func explicitTargetsUseCandidateAvailability() {
        let plan = Placement.plan(explicitTargets: ["a", "a", "b"], candidates: [EnvAvailability(env: "a", availability: 0.9)],
                                  availabilityTarget: nil, explicitReplicaCount: nil, explicitShardType: nil, consistency: .none)
        #expect(plan.selectedEnvs == ["a", "b"])
        #expect(close(plan.achievedQuorumAvailability, 0.9 * 0.99))
    }
}

@Suite struct ModelHelperTests {
    @Test func functionOverlay() {
        let function = OFunction(
            key: "Cart.total", description: "base",
            provisionConfig: ProvisionConfig(containerImage: "img:1", port: 8080, cpuRequest: "100m"),
            config: ["A": "1", "B": "2"]
        )
        let override = FunctionDeploymentSpec(
            functionKey: "Cart.total",
            provisionConfig: ProvisionConfig(containerImage: "img:2", maxConcurrency: 4, minScale: 2),
            config: ["B": "20", "C": "3"]
        )
        let effective = FunctionDeploymentSpec.effective(for: function, override: override)
        #expect(effective == FunctionDeploymentSpec(
            functionKey: "Cart.total", description: "base",
            provisionConfig: ProvisionConfig(containerImage: "img:2", port: 8080, maxConcurrency: 4, cpuRequest: "100m", minScale: 2),
            config: ["A": "1", "B": "20", "C": "3"]
        ))
        #expect(FunctionDeploymentSpec.effective(for: function, override: nil).provisionConfig == function.provisionConfig)
    }

    @Test func boundFunctionKeysAreDistinctInFirstBindingOrder() {
        let cls = OClass(key: "C", functionBindings: [
            FunctionBinding(name: "a", functionKey: "f2"), FunctionBinding(name: "b", functionKey: "f1"), FunctionBinding(name: "c", functionKey: "f2"),
        ])
        #expect(cls.boundFunctionKeys == ["f2", "f1"])
    }

    @Test func conditionAggregation() {
        #expect(DeploymentCondition.aggregate([.running, .pending, .running]) == .pending)
        #expect(DeploymentCondition.aggregate([.running, .deploying, .pending]) == .deploying)
        #expect(DeploymentCondition.aggregate([.deploying, .down]) == .down)
        #expect(DeploymentCondition.aggregate([.running]) == .running)
        #expect(DeploymentCondition.aggregate([]) == .pending)
    }

    @Test func consistencySpellingsForUnitNfr() {
        #expect(ConsistencyModel.allCases.map(\.unitNfrValue) == ["eventual", "read_your_write", "bounded_staleness", "strong"])
    }

    @Test func qualifiedClassIdAndUserSpec() {
        var deployment = OClassDeployment(key: "d", packageName: "shop", classKey: "Cart", condition: .running, revision: 3)
        #expect(deployment.qualifiedClassId == "shop.Cart")
        deployment.createdAt = "x"
        #expect(deployment.userSpec == OClassDeployment(key: "d", packageName: "shop", classKey: "Cart"))
    }
}
