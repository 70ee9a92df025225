import Foundation
import PM
import Testing

/// Env health: CrmInfo data, the HealthService fallback, the TTL cache, and placement on it (spec §5.2, §8.3).
@Suite struct HealthTests {
    @Test func availabilityReportedByTheCRMAppearsInEnvs() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(availability: 0.37, nodeCount: 4, readyNodes: 3))
        try await PMHarness.run(crms: [crm]) { pm in
            let envs = try await pm.get("/api/v1/envs").array()
            let env = try #require(envs.first)
            #expect(env.string("name") == "default")
            #expect(env["default"] as? Bool == true)
            let health = try #require(env.object("health"))
            #expect(health["availability"] as? Double == 0.37)
            #expect(health["node_count"] as? Int == 4)
            #expect(health["ready_nodes"] as? Int == 3)
            #expect(health.string("status") == "Healthy")
            #expect(health.string("cluster_name") == "default")
            #expect(health.string("crm_env_name") == "default-crm")
            #expect(health.string("crm_version") == "fake-1")
            #expect(health.strings("templates") == ["dev", "edge", "cloud"])
            #expect(try await pm.get("/api/v1/envs/default").object().object("health")?["availability"] as? Double == 0.37)
            #expect(try await pm.get("/api/v1/envs/nope").status == 404)
            #expect(pm.metrics.value("pm_env_health", [("env", "default"), ("status", "Healthy")]) == 1)
            #expect(pm.metrics.value("pm_env_health", [("env", "default"), ("status", "Unhealthy")]) == 0)
        }
    }

    @Test func healthServiceOnlyCRMIsHealthyThroughTheFallback() async throws {
        let crm = FakeCRM(env: "legacy", healthOnly: true)
        try await PMHarness.run(crms: [crm]) { pm in
            let health = try await pm.get("/api/v1/envs/legacy/health?refresh=true").object()
            #expect(health.string("status") == "Healthy")
            #expect(health["node_count"] == nil)
            #expect(crm.calls("Check") >= 1)
            crm.update { $0.serving = .notServing }
            #expect(try await pm.get("/api/v1/envs/legacy/health?refresh=true").object().string("status") == "Unhealthy")
        }
    }

    @Test func healthIsCachedWithinTheTTL() async throws {
        let crm = FakeCRM(env: "default")
        try await PMHarness.run(crms: [crm], configure: { $0.healthCacheTTL = .seconds(60) }) { pm in
            #expect(try await pm.get("/api/v1/envs/health").array().first?.string("status") == "Healthy")
            let calls = crm.calls("GetEnvHealth")
            #expect(calls >= 1)
            try await pm.get("/api/v1/envs/health")
            try await pm.get("/api/v1/envs/default")
            #expect(crm.calls("GetEnvHealth") == calls, "served from the cache")
            try await pm.get("/api/v1/envs/health?refresh=true")
            #expect(crm.calls("GetEnvHealth") == calls + 1)
        }
    }

    @Test func placementFollowsTheAvailabilityTarget() async throws {
        let crms = ["e1", "e2", "e3"].map { FakeCRM(env: $0, script: FakeCRMScript(availability: 0.97)) }
        try await PMHarness.run(crms: crms) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            // A = 0.99 over three envs at p = .97: two give 0.9409, three 0.9974.
            let response = try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(response.status == 201, "\(response.text)")
            let record = try await pm.get("/api/v1/deployments/cart").object()
            #expect(record.strings("target_envs") == ["e1", "e2", "e3"])
            let status = try #require(record.object("status"))
            #expect(status["replication_factor"] as? Int == 3)
            let quorum = try #require(status["achieved_quorum_availability"] as? Double)
            #expect(abs(quorum - 0.997354) < 1e-6)
            // A lower target is met by one env (first by name on a tie).
            let single = try await pm.post("/api/v1/deployments", Fixtures.deployment("low", extra: #""nfr_requirements":{"availability":0.9}"#))
            #expect(single.status == 201)
            #expect(try await pm.get("/api/v1/deployments/low").object().strings("target_envs") == ["e1"])
            // available_envs limits the candidates.
            try await pm.post("/api/v1/deployments", Fixtures.deployment("only3", extra: #""available_envs":["e3"]"#))
            #expect(try await pm.get("/api/v1/deployments/only3").object().strings("target_envs") == ["e3"])
        }
    }

    @Test func missingHealthDataUsesTheAssumedAvailability() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(availability: nil, nodeCount: nil, readyNodes: nil))
        try await PMHarness.run(crms: [crm]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            #expect(try await pm.post("/api/v1/deployments", Fixtures.deployment()).status == 201)
            let status = try await pm.get("/api/v1/deployments/cart").object().object("status")
            #expect(status?["achieved_quorum_availability"] as? Double == 0.99)
        }
    }

    @Test func strongConsistencyGetsAnOddQuorumInOneEnv() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            let strong = Fixtures.shopJSON.replacingOccurrences(of: #""consistency_model":"NONE""#, with: #""consistency_model":"STRONG","persistent":true"#)
            try await pm.post("/api/v1/packages", strong)
            #expect(try await pm.post("/api/v1/deployments", Fixtures.deployment()).status == 201)
            let unit = try #require(try pm.crm("default").deployed.last)
            #expect(unit.odgmConfig.replicaCount == 3)
            #expect(unit.odgmConfig.shardType == "raft")
            #expect(unit.odgmConfig.envNodeIds["default"]?.ids.count == 3)
            #expect(unit.odgmConfig.persistence.enabled)
            #expect(unit.nfr.consistency == "strong")
            // An explicit replica count is kept (here raised to odd by STRONG it stays 5).
            #expect(try await pm.post("/api/v1/deployments", Fixtures.deployment("five", extra: #""odgm":{"replica_count":5}"#)).status == 201)
            #expect(try pm.crm("default").deployed.last?.odgmConfig.replicaCount == 5)
        }
    }

    @Test func serviceHealthReportsStorageAndEnvs() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "a"), FakeCRM(env: "b", script: FakeCRMScript(status: "Unhealthy"))]) { pm in
            #expect(try await pm.eventually {
                let envs = try await pm.get("/health").object().object("envs")
                return envs?["healthy"] as? Int == 1 && envs?["total"] as? Int == 2
            })
            let body = try await pm.get("/health").object()
            #expect(body.string("version") != nil)
            #expect(body.string("timestamp") != nil)
        }
    }
}
