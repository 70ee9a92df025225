import Foundation
import PM
import Testing

/// Class runtimes across envs and the deployment-status route (spec §4.2, §8.3).
@Suite struct RuntimeTests {
    @Test func classRuntimesMapListAndFindAcrossEnvs() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "a"), FakeCRM(env: "b")]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            try await pm.post("/api/v1/deployments", Fixtures.deployment("one", extra: #""target_envs":["a"]"#))
            try await pm.post("/api/v1/deployments", Fixtures.deployment("two", extra: #""target_envs":["b"]"#))
            let unitB = try #require(try pm.crm("b").deployed.last?.id)

            let all = try await pm.get("/api/v1/class-runtimes")
            let items = try all.array()
            #expect(items.count == 2)
            #expect(all.header("X-Total-Count") == "2")
            let first = try #require(items.first)
            #expect(first.object("status")?.string("condition") == "Running")
            #expect(first.object("status")?.string("phase") == "RUNNING")
            #expect(first.string("package_name") == "shop")
            #expect(first["partition_count"] as? Int == 1)
            #expect(first.objects("resource_refs").first?.string("kind") == "StatefulSet")
            #expect(Set(items.compactMap { $0.string("cluster_name") }) == ["a", "b"])

            // Without env, every env is searched: the record lives in the second one.
            let found = try await pm.get("/api/v1/class-runtimes/\(unitB)")
            #expect(found.status == 200)
            #expect(try found.object().string("cluster_name") == "b")
            #expect(try await pm.get("/api/v1/class-runtimes/\(unitB)?env=a").status == 404)
            #expect(try await pm.get("/api/v1/class-runtimes/nothing").status == 404)
            let unknown = try await pm.get("/api/v1/class-runtimes/\(unitB)?env=mars")
            #expect(unknown.status == 400)
            #expect(unknown.errorCode == "UNKNOWN_ENV")

            // Filters are honoured even though the fake CRM ignores them.
            #expect(try await pm.get("/api/v1/class-runtimes?env=a").array().count == 1)
            #expect(try await pm.get("/api/v1/class-runtimes?cluster=b").array().first?.string("id") == unitB)
            #expect(try await pm.get("/api/v1/class-runtimes?environment=b").array().count == 1)
            #expect(try await pm.get("/api/v1/class-runtimes?class_key=shop.Cart").array().count == 2)
            #expect(try await pm.get("/api/v1/class-runtimes?package_name=other").array().isEmpty)
            #expect(try await pm.get("/api/v1/class-runtimes?status=Available").array().count == 2)
            #expect(try await pm.get("/api/v1/class-runtimes?status=DOWN").array().isEmpty)
            #expect(try await pm.get("/api/v1/class-runtimes?limit=1&offset=1").array().count == 1)

            // A failing env is named, the others still answer.
            try pm.crm("a").update { $0.readsFail = .unavailable }
            let partial = try await pm.get("/api/v1/class-runtimes")
            #expect(partial.status == 200)
            #expect(partial.header("X-Partial-Envs") == "a")
            #expect(try partial.array().count == 1)
        }
    }

    @Test func deploymentStatusRouteReadsTheCR() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(condition: .deploying, phase: .resourceProvisioning))
        try await PMHarness.run(crms: [crm]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            try await pm.post("/api/v1/deployments", Fixtures.deployment())
            let unit = try #require(crm.deployed.last?.id)
            let status = try await pm.get("/api/v1/deployment-status/\(unit)").object()
            #expect(status.string("id") == unit)
            #expect(status.string("status") == "Deploying")
            #expect(status.string("phase") == "RESOURCE_PROVISIONING")
            #expect(try await pm.get("/api/v1/deployment-status/\(unit)?cluster=default").status == 200)
            #expect(try await pm.get("/api/v1/deployment-status/nope").status == 404)
            #expect(try await pm.get("/api/v1/deployment-status/\(unit)?env=mars").errorCode == "UNKNOWN_ENV")
            crm.update { $0.readsFail = .unavailable }
            let down = try await pm.get("/api/v1/deployment-status/\(unit)")
            #expect(down.status == 503)
            #expect(down.errorCode == "CRM_UNAVAILABLE")
            crm.update { $0.readsFail = .deadlineExceeded }
            #expect(try await pm.get("/api/v1/deployment-status/\(unit)").status == 504)
        }
    }
}
