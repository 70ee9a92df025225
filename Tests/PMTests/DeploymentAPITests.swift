import Foundation
import HTTPTypes
import OaaSProto
import PM
import Testing

/// Deployments over real HTTP against fake CRMs on loopback gRPC (spec §5, §16 "PM").
@Suite struct DeploymentAPITests {
    @Test func deployCarriesCorrelationIdDeadlineAndTrace() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            var headers = HTTPFields()
            headers[HTTPField.Name("X-Correlation-ID")!] = "deploy-123"
            headers[HTTPField.Name("traceparent")!] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let response = try await pm.post("/api/v1/deployments", Fixtures.deployment(), headers: headers)
            #expect(response.status == 201, "\(response.text)")
            #expect(response.header("X-Correlation-ID") == "deploy-123")
            let log = try pm.crm("default").log
            #expect(log.calls["Deploy"] == 1)
            #expect(log.correlationIds.contains("deploy-123"))
            #expect(log.traceparents.contains { $0.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") && !$0.contains("00f067aa0ba902b7") })
            #expect(!log.timeouts.isEmpty)
            // The deploy is logged with the request's correlation id.
            #expect(pm.logs.all.contains { $0.message == "unit dispatched" && $0.metadata["correlation_id"] == "deploy-123" && $0.metadata["deployment"] == "cart" })
            #expect(pm.metrics.value("pm_dispatch_total", [("env", "default"), ("result", "accepted")]) == 1)
        }
    }

    @Test func theUnitFollowsTheSpec() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let body = Fixtures.deployment(extra: #""nfr_requirements":{"availability":0.9,"max_latency_ms":50},"env_templates":{"default":"edge"},"functions":[{"function_key":"Cart.total","config":{"EXTRA":"1"}}],"odgm":{"partition_count":4}"#)
            #expect(try await pm.post("/api/v1/deployments", body).status == 201)
            let unit = try #require(try pm.crm("default").deployed.last)
            #expect(unit.id == "cart-" + String(unit.id.suffix(8)))
            #expect(unit.id.count <= 40)
            #expect(unit.packageName == "shop")
            #expect(unit.classKey == "Cart")
            #expect(unit.targetEnv == "default")
            #expect(unit.deploymentKey == "cart")
            #expect(unit.hasRevision && unit.revision > 0)
            #expect(unit.hasCreatedAt)
            #expect(unit.selectedTemplate == "edge")
            #expect(unit.functions.map(\.functionKey) == ["Cart.total"])
            #expect(unit.functions.first?.config == ["LOG_LEVEL": "info", "EXTRA": "1"])
            #expect(unit.functions.first?.provisionConfig.containerImage == "registry.example.com/cart-total:1")
            #expect(unit.functions.first?.nfrRequirements.maxLatencyMs == 50)
            #expect(unit.functions.first?.nfrRequirements.consistency == "eventual")
            #expect(unit.functionBindings.map(\.name) == ["add", "total"])
            #expect(unit.functionBindings.first?.accessModifier == "PUBLIC")
            #expect(unit.functionBindings.last?.stateless == true)
            let odgm = unit.odgmConfig
            #expect(odgm.collections == ["shop.Cart"])
            #expect(odgm.partitionCount == 4)
            #expect(odgm.replicaCount == 1)
            #expect(odgm.shardType == "mst")
            #expect(odgm.log == "info")
            #expect(odgm.envNodeIds["default"]?.ids.count == 1)
            #expect(odgm.odgmNodeID == odgm.envNodeIds["default"]?.ids.first)
            #expect(odgm.collectionAssignments["shop.Cart"]?.assignments.count == 4)
            #expect(odgm.invocations.fnRoutes["total"]?.functionKey == "Cart.total")
            #expect(odgm.invocations.fnRoutes["total"]?.url == "")
            #expect(odgm.invocations.fnRoutes["total"]?.stateless == true)
            #expect(odgm.hasPersistence && !odgm.persistence.enabled)
            #expect(unit.nfr.availability == 0.9)
            #expect(unit.nfr.maxLatencyMs == 50)
            #expect(unit.nfr.consistency == "eventual")

            // GET shows the effective selection and the mapping.
            let record = try await pm.get("/api/v1/deployments/cart").object()
            #expect(record.strings("target_envs") == ["default"])
            #expect(record.object("status")?.object("envs")?.object("default")?.string("dispatch") == "accepted")
            let mappings = try await pm.get("/api/v1/deployments/cart/env-mappings").object()
            #expect(mappings.object("env_ids")?.string("default") == unit.id)
            #expect(mappings.object("cluster_ids")?.string("default") == unit.id)
            #expect(try await pm.get("/api/v1/deployments/cart/cluster-mappings").status == 200)
        }
    }

    @Test func validationErrorsOfDeployments() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let unknownEnv = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""target_envs":["mars"]"#))
            #expect(unknownEnv.status == 400)
            #expect(unknownEnv.errorCode == "UNKNOWN_ENV")
            #expect(unknownEnv.errorField == "target_envs[0]")
            let noPackage = try await pm.post("/api/v1/deployments", Fixtures.deployment(package: "ghost"))
            #expect(noPackage.status == 404)
            #expect(noPackage.errorField == "package_name")
            let noClass = try await pm.post("/api/v1/deployments", Fixtures.deployment(cls: "Nope"))
            #expect(noClass.status == 400)
            #expect(noClass.errorField == "class_key")
            let absurd = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""odgm":{"partition_count":100000,"replica_count":0}"#))
            #expect(absurd.status == 400)
            #expect(absurd.errorField == "odgm.partition_count")
            #expect(try absurd.object().object("error")?.objects("details").count == 2)
            let pathMismatch = try await pm.put("/api/v1/deployments/other", Fixtures.deployment())
            #expect(pathMismatch.status == 400)
            #expect(pathMismatch.errorField == "key")
            let putMissing = try await pm.put("/api/v1/deployments/cart", Fixtures.deployment())
            #expect(putMissing.status == 404)
            #expect(try pm.crm("default").calls("Deploy") == 0)
            #expect(try await pm.get("/api/v1/deployments").array().isEmpty)
        }
    }

    @Test func noHealthyEnvAnswers503AndStoresNothing() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(status: "Unhealthy"))
        try await PMHarness.run(crms: [crm]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let response = try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(response.status == 503)
            #expect(response.errorCode == "NO_ENV_AVAILABLE")
            #expect(try await pm.get("/api/v1/deployments/cart").status == 404)
            #expect(crm.calls("Deploy") == 0)
            // An explicit target is honoured even when unhealthy.
            let explicit = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""target_envs":["default"]"#))
            #expect(explicit.status == 201)
        }
    }

    @Test func packageDeleteIsInUseUnlessCascade() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            #expect(try await pm.post("/api/v1/deployments", Fixtures.deployment()).status == 201)
            let unitId = try #require(try pm.crm("default").deployed.last?.id)
            let refused = try await pm.delete("/api/v1/packages/shop")
            #expect(refused.status == 409)
            #expect(refused.errorCode == "IN_USE")
            #expect(try refused.object().object("error")?.objects("details").first?.string("message") == "cart")
            // Removing the deployed class is refused too.
            let removal = try await pm.put("/api/v1/packages/shop", #"{"name":"shop","classes":[],"functions":[]}"#)
            #expect(removal.status == 409)
            #expect(removal.errorCode == "IN_USE")

            let noTotal = Fixtures.shopJSON.replacingOccurrences(of: #",{"name":"total","function_key":"Cart.total","stateless":true}"#, with: "")
            let bindingRemoved = try await pm.put("/api/v1/packages/shop", noTotal)
            #expect(bindingRemoved.status == 409)
            #expect(bindingRemoved.errorMessage?.contains("binding 'Cart.total'") == true)
            // Rebinding a method to another function is an update, not a removal.
            let rebound = Fixtures.shopJSON
                .replacingOccurrences(of: #"{"name":"add","function_key":"Cart.add"}"#, with: #"{"name":"add","function_key":"Cart.add2"}"#)
                .replacingOccurrences(of: #"{"key":"Cart.add","#, with: #"{"key":"Cart.add2","#)
            #expect(try await pm.put("/api/v1/packages/shop?redeploy=false", rebound).status == 200)

            #expect(try await pm.delete("/api/v1/packages/shop?cascade=true").status == 204)
            #expect(try pm.crm("default").deleted == [unitId])
            #expect(try await pm.get("/api/v1/deployments/cart").status == 404)
            #expect(try await pm.get("/api/v1/packages/shop").status == 404)
        }
    }

    @Test func redeployUpdatesInPlace() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "a"), FakeCRM(env: "b")]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let body = Fixtures.deployment(extra: #""target_envs":["a","b"]"#)
            #expect(try await pm.post("/api/v1/deployments", body).status == 201)
            let second = try await pm.post("/api/v1/deployments", body)
            #expect(second.status == 200)
            #expect(try second.object().string("status") == "unchanged")
            let a = try pm.crm("a")
            #expect(a.deployed.count == 2)
            #expect(Set(a.deployed.map(\.id)).count == 1, "one CR, upserted twice")
            #expect(a.deployed.first?.odgmConfig.envNodeIds == a.deployed.last?.odgmConfig.envNodeIds)

            let image = Fixtures.deployment(extra: #""target_envs":["a","b"],"functions":[{"function_key":"Cart.add","provision_config":{"container_image":"registry.example.com/cart-add:2"}}]"#)
            let updated = try await pm.post("/api/v1/deployments", image)
            #expect(try updated.object().string("status") == "updated")
            #expect(a.deployed.last?.functions.first?.provisionConfig.containerImage == "registry.example.com/cart-add:2")
            #expect(Set(a.deployed.map(\.id)).count == 1)

            let partitions = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""target_envs":["a","b"],"odgm":{"partition_count":8}"#))
            #expect(partitions.status == 409)
            #expect(partitions.errorCode == "CONFLICT")
            #expect(partitions.errorField == "odgm.partition_count")

            let bUnit = try #require(try pm.crm("b").deployed.last?.id)
            let dropped = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""target_envs":["a"]"#))
            #expect(dropped.status == 200)
            #expect(try pm.crm("b").deleted == [bUnit])
            let record = try await pm.get("/api/v1/deployments/cart").object()
            #expect(record.object("status")?.object("envs")?.object("b") == nil)
            #expect(try await pm.get("/api/v1/deployments/cart/env-mappings").object().object("env_ids")?.keys.sorted() == ["a"])
            // The node ids of the kept env did not move.
            #expect(a.deployed.first?.odgmConfig.envNodeIds["a"] == a.deployed.last?.odgmConfig.envNodeIds["a"])
        }
    }

    @Test func preconditionsOnDeployments() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            var createOnly = HTTPFields()
            createOnly[.ifNoneMatch] = "*"
            #expect(try await pm.post("/api/v1/deployments", Fixtures.deployment(), headers: createOnly).status == 201)
            let exists = try await pm.post("/api/v1/deployments", Fixtures.deployment(), headers: createOnly)
            #expect(exists.status == 409)
            #expect(exists.errorCode == "ALREADY_EXISTS")
            let etag = try #require(try await pm.get("/api/v1/deployments/cart").header("ETag"))
            let stale = try await pm.put("/api/v1/deployments/cart", Fixtures.deployment(), headers: [.ifMatch: "\"12\""])
            #expect(stale.status == 412)
            #expect(try await pm.put("/api/v1/deployments/cart", Fixtures.deployment(), headers: [.ifMatch: etag]).status == 200)
            let oldDelete = try await pm.delete("/api/v1/deployments/cart", headers: [.ifMatch: etag])
            #expect(oldDelete.status == 412, "the PUT bumped the revision")
            let deleted = try await pm.delete("/api/v1/deployments/cart")
            #expect(deleted.status == 200)
            #expect(try deleted.object().strings("deleted_envs") == ["default"])
            #expect(try deleted.object().string("message") == "Deployment deleted across environments")
            #expect(try await pm.delete("/api/v1/deployments/cart").status == 404)
        }
    }

    @Test func liveConditionAndStatusView() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(condition: .deploying, phase: .resourceProvisioning))
        try await PMHarness.run(crms: [crm]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(try await pm.get("/api/v1/deployments/cart").object().string("condition") == "DEPLOYING")
            crm.update { $0.condition = .running; $0.phase = .phaseRunning }
            #expect(try await pm.get("/api/v1/deployments/cart").object().string("condition") == "RUNNING")
            #expect(try await pm.get("/api/v1/deployments?condition=running").array().count == 1)
            #expect(try await pm.get("/api/v1/deployments?condition=DOWN").array().isEmpty)
            #expect(try await pm.get("/api/v1/deployments?package_name=other").array().isEmpty)
            #expect(try await pm.get("/api/v1/deployments?class_key=shop.Cart").array().count == 1)
            #expect(try await pm.get("/api/v1/deployments?target_env=default").array().count == 1)

            let view = try await pm.get("/api/v1/deployments/cart/status").object()
            #expect(view.string("condition") == "RUNNING")
            let env = try #require(view.objects("envs").first)
            #expect(env.string("env") == "default")
            #expect(env.string("dispatch") == "accepted")
            #expect(env.string("condition") == "Running")
            #expect(env.string("phase") == "RUNNING")
            #expect(env.string("ready") == "1/1")
            #expect(env.objects("resource_refs").isEmpty)
            #expect(env.object("nfr_compliance")?.string("overall_status") == "Compliant")

            // A reference CRM: no runtime status, only the summary string.
            crm.update { $0.referenceStyle = true; $0.condition = .deploying }
            #expect(try await pm.get("/api/v1/deployments/cart").object().string("condition") == "DEPLOYING")
            // An unreachable CRM keeps the last condition.
            crm.update { $0.readsFail = .unavailable }
            let kept = try await pm.get("/api/v1/deployments/cart").object()
            #expect(kept.string("condition") != nil)
            #expect(try await pm.get("/api/v1/deployments/cart?live=false").status == 200)
        }
    }

    @Test func applyDocumentsCreatesPackagesThenDeployments() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            let file = Fixtures.shopYAML + "\ndeployments:\n- {key: cart, class_key: Cart}\n---\nkey: cart2\nclass_key: Cart\n---\nkey: broken\npackage_name: ghost\nclass_key: X\n"
            let lines = await pm.role.applyDocuments(Data(file.utf8), name: "shop.yaml")
            #expect(lines.contains("package shop: created"))
            #expect(lines.contains { $0.hasPrefix("deployment cart: created") })
            #expect(lines.contains { $0.hasPrefix("deployment cart2: created") })
            #expect(lines.contains { $0.hasPrefix("error: deployment broken: NOT_FOUND") })
            let again = await pm.role.applyDocuments(Data(file.utf8), name: "shop.yaml")
            #expect(again.contains("package shop: unchanged"))
            #expect(again.contains { $0.hasPrefix("deployment cart: unchanged") })
            let garbage = await pm.role.applyDocuments(Data("{not json".utf8), name: "x.json")
            #expect(garbage.count == 1 && garbage[0].hasPrefix("error: x.json: BAD_REQUEST"))
        }
    }

    @Test func packageUpdateRedeploysInTheBackground() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            try await pm.post("/api/v1/deployments", Fixtures.deployment())
            let crm = try pm.crm("default")
            let changed = Fixtures.shopJSON.replacingOccurrences(of: "cart-add:1", with: "cart-add:9")
            let response = try await pm.put("/api/v1/packages/shop", changed)
            #expect(try response.object().strings("redeployed") == ["cart"])
            #expect(try await pm.eventually { crm.deployed.last?.functions.first?.provisionConfig.containerImage == "registry.example.com/cart-add:9" })
            #expect(Set(crm.deployed.map(\.id)).count == 1)
            let quiet = try await pm.put("/api/v1/packages/shop?redeploy=false", changed.replacingOccurrences(of: "\"1.2\"", with: "\"2\""))
            #expect(try quiet.object().strings("redeployed").isEmpty)
        }
    }
}
