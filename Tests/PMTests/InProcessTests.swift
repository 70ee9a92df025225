import Foundation
import GRPCCore
import GRPCInProcessTransport
import PM
import Testing

/// `serve --role pm,crm` and `oaas dev`: a CRM in the same process, reached through grpc-swift's in-process
/// transport with the same protocol and no network hop; unknown envs of dev files map to the local env.
@Suite struct InProcessTests {
    @Test func inProcessCRMIsAnEnvAndDevFilesMapToIt() async throws {
        let crm = FakeCRM(env: "local")
        let transport = InProcessTransport()
        let server = GRPCServer(transport: transport.server, services: crm.services)
        let client = GRPCClient(transport: transport.client)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            group.addTask { try await client.runConnections() }
            try await PMHarness.run(inProcess: [("local", GRPCCRMClient(client: client))], configure: { $0.unknownEnvFallback = "local" }) { pm in
                let envs = try await pm.get("/api/v1/envs").array()
                #expect(envs.map { $0.string("name") } == ["local"])
                #expect(envs.first?.string("url") == "inprocess://local")
                #expect(envs.first?["default"] as? Bool == true)
                try await pm.post("/api/v1/packages", Fixtures.shopJSON)
                let response = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""target_envs":["oaas-1"],"env_templates":{"oaas-1":"edge"}"#))
                #expect(response.status == 201, "\(response.text)")
                #expect(try response.object().strings("warnings").contains("env 'oaas-1' mapped to 'local'"))
                #expect(crm.deployed.last?.targetEnv == "local")
                #expect(crm.deployed.last?.selectedTemplate == "edge")
                #expect(await pm.container.notReadyReasons().isEmpty)
            }
            client.beginGracefulShutdown()
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
