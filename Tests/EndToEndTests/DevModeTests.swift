import Foundation
import GRPCCore
import OaaSProto
import Testing

/// `oaas dev` exactly as a user runs it, driven through the CLI, REST and gRPC.
@Suite(.serialized) struct DevModeTests {
    @Test func seedLinesWorkRightAfterStart() async throws {
        let port = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dev = try await OaasProcess(["dev", "--gateway-port", String(port), "--port", String(freePort()), "--data-dir", dir], port: port)
        let g = ["-g", "http://127.0.0.1:\(port)"]
        let env = ["OAAS_CONFIG_PATH": (dir as NSString).appendingPathComponent("config.yml")]

        let set = try await runCLI(["object", "setstr", "--cls-id", "users", "0", "--object-id-str", "user-42", "-s", "name=alice", "-s", "role=admin"] + g, environment: env)
        #expect(set.0 == 0, "\(set.2)")
        #expect(set.1.contains("users/0/user-42"))

        let get = try await runCLI(["object", "getstr", "--cls-id", "users", "0", "--object-id-str", "user-42", "--key-str", "name"] + g, environment: env)
        #expect(get.0 == 0 && get.1 == "alice")

        let again = try await runCLI(["object", "setstr", "--cls-id", "users", "0", "--object-id-str", "user-42", "-s", "name=alice", "-s", "role=admin"] + g, environment: env)
        #expect(again.0 == 1)
        #expect(again.2.contains("ALREADY_EXISTS"))

        let merge = try await runCLI(["object", "merge", "--cls-id", "users", "0", "--object-id-str", "user-42", "-s", "region=eu"] + g, environment: env)
        #expect(merge.0 == 0, "\(merge.2)")
        let region = try await runCLI(["object", "getstrkey", "--cls-id", "users", "0", "--object-id-str", "user-42", "--key-str", "region"] + g, environment: env)
        #expect(region.1 == "eu")

        let list = try await runCLI(["object", "list", "--cls-id", "users", "0", "--json"] + g, environment: env)
        let parsed = try JSONSerialization.jsonObject(with: Data(list.1.utf8)) as? [String: Any]
        #expect(parsed?["count"] as? Int == 1)

        let caps = try await runCLI(["capabilities"] + g, environment: env)
        #expect(caps.1.contains("string_ids: true"))

        // The class was auto-created once, with 16 partitions, and logged once.
        let created = dev.log.components(separatedBy: "auto-created with 16 partitions").count - 1
        #expect(created == 1, "\(dev.log)")
        let outOfRange = try await runCLI(["object", "setstr", "--cls-id", "other", "16", "--object-id-str", "x"] + g, environment: env)
        #expect(outOfRange.0 == 1 && outOfRange.2.contains("NOT_FOUND"))
    }

    @Test func autoCreatedClassesAndDataSurviveRestart() async throws {
        let port = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let dev = try await OaasProcess(["dev", "--gateway-port", String(port), "--port", String(freePort()), "--data-dir", dir], port: port)
            let (status, _, _) = try await dev.http("PUT", "/api/class/notes/3/objects-str/n1/entries-str/body", body: Data("hello".utf8))
            #expect(status == 204)
            dev.signal(SIGTERM)
            #expect(try await dev.waitForExit() == 0)
        }
        let dev = try await OaasProcess(["dev", "--gateway-port", String(port), "--port", String(freePort()), "--data-dir", dir], port: port)
        let (status, headers, body) = try await dev.http("GET", "/api/class/notes/3/objects-str/n1/entries-str/body")
        #expect(status == 200)
        #expect(String(decoding: body, as: UTF8.self) == "hello")
        #expect(headers["x-oprc-object-version"] == "1")
    }
}
