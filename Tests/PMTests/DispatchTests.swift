import Foundation
import GRPCCore
import PM
import Testing

/// Retries, pending units, the reconciler, rollback and failed units (spec §5.5–§5.8).
@Suite struct DispatchTests {
    @Test func flakyCRMSucceedsWithinTheRetries() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(deployFailures: [.unavailable, .deadlineExceeded]))
        try await PMHarness.run(crms: [crm], configure: { $0.deployMaxRetries = 2 }) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let response = try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(response.status == 201, "\(response.text)")
            #expect(crm.calls("Deploy") == 3)
            let state = try await pm.get("/api/v1/deployments/cart?live=false").object().object("status")?.object("envs")?.object("default")
            #expect(state?.string("dispatch") == "accepted")
            #expect(state?["attempts"] as? Int == 3)
        }
    }

    @Test func nonRetryableFailureIs502WithTheRecordKept() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(deployAlwaysFails: .permissionDenied))
        try await PMHarness.run(crms: [crm]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let response = try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(response.status == 502)
            #expect(response.errorCode == "CRM_ERROR")
            #expect(crm.calls("Deploy") == 1, "PERMISSION_DENIED is not retried")
            let record = try await pm.get("/api/v1/deployments/cart?live=false").object()
            #expect(record.string("condition") == "DOWN")
            #expect(record.object("status")?.object("envs")?.object("default")?.string("dispatch") == "failed")
            #expect(record.object("status")?.string("last_error")?.contains("PERMISSION_DENIED") == true)

            crm.update { $0.deployAlwaysFails = .alreadyExists }
            let conflict = try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(conflict.status == 409)
            #expect(conflict.errorCode == "CONFLICT")
        }
    }

    @Test func downCRMIsPendingThenTheReconcilerDelivers() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(deployAlwaysFails: .unavailable))
        try await PMHarness.run(crms: [crm], configure: { $0.deployMaxRetries = 1 }) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let response = try await pm.post("/api/v1/deployments", Fixtures.deployment())
            #expect(response.status == 202, "\(response.text)")
            #expect(try response.object().string("status") == "accepted")
            #expect(try response.object().objects("units").first?.string("result") == "pending")
            let pending = try await pm.get("/api/v1/deployments/cart?live=false").object()
            #expect(pending.object("status")?.object("envs")?.object("default")?.string("dispatch") == "pending")
            #expect(pending.object("status")?.string("last_error")?.contains("UNAVAILABLE") == true)

            crm.update { $0.deployAlwaysFails = nil }
            let delivered = try await pm.eventually {
                let record = try await pm.get("/api/v1/deployments/cart?live=false").object()
                return record.object("status")?.object("envs")?.object("default")?.string("dispatch") == "accepted"
            }
            #expect(delivered)
            #expect(crm.log.runtimes.count == 1)
            #expect(try await pm.get("/api/v1/deployments/cart/env-mappings").object().object("env_ids")?.keys.sorted() == ["default"])
            let record = try await pm.get("/api/v1/deployments/cart?live=false").object()
            #expect(record.object("status")?["last_error"] == nil)
        }
    }

    @Test func unreachableCRMIsPendingNotAnError() async throws {
        let dead = CRMEnvConfig(name: "far", url: "http://127.0.0.1:\(try FreePorts.take(1)[0])", timeout: .seconds(2))
        try await PMHarness.run(extraEnvs: [dead], configure: { $0.deployMaxRetries = 1 }) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let response = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""target_envs":["far"]"#))
            #expect(response.status == 202, "\(response.text)")
            #expect(try await pm.get("/api/v1/deployments/cart").status == 200, "the record is never lost")
            // Its health is Unhealthy, with the reason.
            let health = try await pm.get("/api/v1/envs/far/health").object()
            #expect(health.string("status") == "Unhealthy")
            // Refused connection (UNAVAILABLE), or the probe's deadline on a loaded machine: either way a reason.
            let reason = health.string("message") ?? ""
            #expect(reason.contains("UNAVAILABLE") || reason.contains("DEADLINE_EXCEEDED"), "\(reason)")
            // Deleting while unreachable is pending too, and the record stays.
            let delete = try await pm.delete("/api/v1/deployments/cart")
            #expect(delete.status == 202)
            #expect(try delete.object().strings("pending_envs") == ["far"])
            #expect(try await pm.get("/api/v1/deployments/cart?live=false").object().string("condition") == "DELETED")
        }
    }

    @Test func rollbackOnPartialDeletesTheAcceptedUnit() async throws {
        let good = FakeCRM(env: "a")
        let bad = FakeCRM(env: "b", script: FakeCRMScript(deployAlwaysFails: .internalError))
        try await PMHarness.run(crms: [good, bad], configure: { $0.rollbackOnPartial = true }) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            let response = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""target_envs":["a","b"]"#))
            #expect(response.status == 502)
            #expect(response.errorCode == "CRM_ERROR")
            let accepted = try #require(good.deployed.first?.id)
            #expect(good.deleted == [accepted])
            #expect(good.log.runtimes.isEmpty)
            #expect(try await pm.get("/api/v1/deployments/cart").status == 404)
        }
    }

    @Test func pendingDeleteIsFinishedByTheReconciler() async throws {
        let crm = FakeCRM(env: "default")
        try await PMHarness.run(crms: [crm]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            try await pm.post("/api/v1/deployments", Fixtures.deployment())
            crm.update { $0.deleteAlwaysFails = .unavailable }
            let response = try await pm.delete("/api/v1/deployments/cart")
            #expect(response.status == 202)
            #expect(try response.object().strings("pending_envs") == ["default"])
            crm.update { $0.deleteAlwaysFails = nil }
            #expect(try await pm.eventually { try await pm.get("/api/v1/deployments/cart").status == 404 })
            #expect(crm.log.runtimes.isEmpty)
        }
    }

    @Test func reconcilerCachesLiveConditions() async throws {
        let crm = FakeCRM(env: "default", script: FakeCRMScript(condition: .deploying))
        try await PMHarness.run(crms: [crm]) { pm in
            try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            try await pm.post("/api/v1/deployments", Fixtures.deployment())
            crm.update { $0.condition = .down; $0.phase = .failed }
            #expect(try await pm.eventually {
                try await pm.get("/api/v1/deployments/cart?live=false").object().string("condition") == "DOWN"
            })
        }
    }
}
