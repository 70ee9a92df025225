import Foundation
import Testing
@testable import OaaSCLI

@Suite("env, class, function and class-runtimes commands; errors and connection settings")
struct CatalogCommandTests {
    static let envs = """
        [{"name":"local","url":"http://127.0.0.1:8088","default":true,
          "health":{"cluster_name":"local","crm_env_name":"local","status":"Healthy","crm_version":"0.1.0",
                    "last_seen":"2025-01-02T03:04:05Z","node_count":3,"ready_nodes":2,"availability":0.37,"templates":["dev","edge"]}},
         {"name":"oaas-2","url":"http://crm-2:8088","default":false,
          "health":{"cluster_name":"oaas-2","crm_env_name":"oaas-2","status":"Unknown","last_seen":"2025-01-02T03:04:00Z"}}]
        """

    static let runtimes = """
        [{"id":"cart-1a2b3c4d","deployment_unit_id":"cart-1a2b3c4d","package_name":"shop","class_key":"Cart",
          "target_environment":"local","cluster_name":"local",
          "status":{"condition":"Running","phase":"RUNNING","message":"Available","last_updated":"2025-01-02T03:04:05Z"},
          "resource_refs":[],"created_at":"2025-01-02T03:00:00Z","updated_at":"2025-01-02T03:04:05Z","partition_count":4},
         {"id":"cart-9f8e7d6c","deployment_unit_id":"cart-9f8e7d6c","package_name":"shop","class_key":"Cart",
          "target_environment":"oaas-2","status":{"condition":"Down","phase":"FAILED","message":"Degraded (CrashLoop): back-off"},
          "partition_count":1}]
        """

    @Test("env list: NAME STATUS AVAILABILITY NODES(ready/total) CRM_VERSION LAST_SEEN DEFAULT")
    func envList() async throws {
        try await FakePM.withRunning { pm async throws in
            let envs = try FakePM.parse(Self.envs).arrayValue ?? []
            pm.configure { $0.envs = envs }
            for alias in ["env", "envs", "environments", "clu", "cl"] {
                let run = await oaas([alias, "list"], pm: pm)
                #expect(run.code == 0, "\(alias): \(run)")
                #expect(run.out == """
                    NAME    STATUS   AVAILABILITY  NODES  CRM_VERSION  LAST_SEEN             DEFAULT
                    local   Healthy  0.37          2/3    0.1.0        2025-01-02T03:04:05Z  *
                    oaas-2  Unknown  -             -      -            2025-01-02T03:04:00Z

                    """)
            }
            let refreshed = await oaas(["env", "--refresh"], pm: pm)
            #expect(refreshed.code == 0, "the list is the default subcommand")
            #expect(pm.requests.last?.query("refresh") == ["true"])

            let health = await oaas(["env", "health"], pm: pm)
            #expect(health.rows.first == ["NAME", "CRM_ENV", "STATUS", "AVAILABILITY", "NODES", "CRM_VERSION", "LAST_SEEN", "TEMPLATES"])
            #expect(health.rows.dropFirst().first == ["local", "local", "Healthy", "0.37", "2/3", "0.1.0", "2025-01-02T03:04:05Z", "dev,edge"])
        }
    }

    @Test("class-runtimes list: --env/--status become query parameters; get by id; partial envs warn")
    func classRuntimes() async throws {
        try await FakePM.withRunning { pm async throws in
            let runtimes = try FakePM.parse(Self.runtimes).arrayValue ?? []
            pm.configure {
                $0.classRuntimes = runtimes
                $0.partialEnvs = "oaas-3"
            }
            let all = await oaas(["class-runtimes", "list"], pm: pm)
            #expect(all.code == 0, "\(all)")
            #expect(all.rows.first == ["ID", "PACKAGE", "CLASS", "ENV", "CONDITION", "PHASE", "PARTITIONS", "MESSAGE"])
            #expect(all.rows.count == 3)
            #expect(all.err == "warning: no answer from env(s) oaas-3; the list may be incomplete\n")

            let filtered = await oaas(["cr", "l", "--env", "local", "--status", "running"], pm: pm)
            #expect(filtered.rows == [
                ["ID", "PACKAGE", "CLASS", "ENV", "CONDITION", "PHASE", "PARTITIONS", "MESSAGE"],
                ["cart-1a2b3c4d", "shop", "Cart", "local", "Running", "RUNNING", "4", "Available"],
            ])
            let request = try #require(pm.requests.last)
            #expect(request.route == "class-runtimes")
            #expect(request.query("env") == ["local"])
            #expect(request.query("status") == ["running"])

            let one = await oaas(["runtimes", "get", "cart-9f8e7d6c", "--env", "oaas-2"], pm: pm)
            #expect(one.code == 0, "\(one)")
            #expect(one.rows.last?.prefix(7) == ["cart-9f8e7d6c", "shop", "Cart", "oaas-2", "Down", "FAILED", "1"])
            #expect(pm.requests.last?.route == "class-runtimes/cart-9f8e7d6c")
            #expect(pm.requests.last?.query("env") == ["oaas-2"])

            let byID = await oaas(["rts", "list", "cart-1a2b3c4d", "-o", "json"], pm: pm)
            #expect(try parseJSON(byID.out)["partition_count"]?.intValue == 4)

            let missing = await oaas(["cr", "get", "nope"], pm: pm)
            #expect(missing.code == 1)
            #expect(missing.err == "error: NOT_FOUND: class runtime 'nope' not found\n")
        }
    }

    @Test("class list/get and function list read PM's views; class delete is exit 2")
    func catalog() async throws {
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            let classes = await oaas(["class", "list", "Car", "--package", "shop"], pm: pm)
            #expect(classes.rows == [
                ["CLASS", "PACKAGE", "METHODS", "CONSISTENCY", "PERSISTENT"],
                ["shop.Cart", "shop", "add", "NONE", "false"],
            ])
            #expect(pm.requests.last?.query("filter") == ["Car"])
            #expect(pm.requests.last?.query("package") == ["shop"])

            let one = await oaas(["cls", "get", "shop.Cart", "-o", "json"], pm: pm)
            #expect(try parseJSON(one.out)["class_key"]?.stringValue == "Cart")

            let functions = await oaas(["fn"], pm: pm)
            #expect(functions.rows == [
                ["PACKAGE", "FUNCTION", "TYPE", "SOURCE", "BOUND_BY"],
                ["shop", "Cart.add", "CUSTOM", "endpoint:http://127.0.0.1:9101", "shop.Cart.add"],
            ])

            let delete = await oaas(["c", "delete", "shop.Cart"], pm: pm)
            #expect(delete.code == 2)
            #expect(delete.err.hasPrefix("error: INVALID_ARGUMENT: classes cannot be deleted on their own: they are removed via their package\n"))
            #expect(pm.writes.isEmpty)
        }
    }

    @Test("a PM error envelope prints error: CODE: message and one line per detail")
    func envelope() async throws {
        try await FakePM.withRunning { pm async throws in
            let envelope = FakePM.envelope(
                "VALIDATION_FAILED",
                "classes[0].function_bindings[0].function_key: function 'Cart.ad' is not defined in package 'shop'",
                field: "classes[0].function_bindings[0].function_key",
                details: [
                    (field: "classes[0].function_bindings[0].function_key", message: "function 'Cart.ad' is not defined in package 'shop'"),
                    (field: "functions[0].key", message: "duplicate key 'Cart.add'"),
                ])
            pm.configure { $0.faults["POST packages"] = (status: 400, body: envelope) }
            try await withFiles(["shop.json": #"{"name":"shop","classes":[{"key":"Cart"}]}"#]) { dir async throws in
                let run = await oaas(["package", "apply", dir.appendingPathComponent("shop.json").path], pm: pm)
                #expect(run.code == 1)
                #expect(run.err == """
                    error: VALIDATION_FAILED: classes[0].function_bindings[0].function_key: function 'Cart.ad' is not defined in package 'shop'
                      - classes[0].function_bindings[0].function_key: function 'Cart.ad' is not defined in package 'shop'
                      - functions[0].key: duplicate key 'Cart.add'

                    """)
                #expect(run.out.isEmpty)
            }
            pm.configure { $0.faults["GET envs"] = (status: 502, body: .string("<html>bad gateway</html>")) }
            let proxy = await oaas(["env", "list"], pm: pm)
            #expect(proxy.code == 1)
            #expect(proxy.err.hasPrefix("error: HTTP_502: PM answered 502: "))
        }
    }

    @Test("an unreachable PM is PM_UNREACHABLE with the URL and a hint, exit 1")
    func unreachable() async {
        let started = ContinuousClock.now
        let run = await oaas(["env", "list", "--pm", "http://127.0.0.1:1"], pm: nil)
        #expect(run.code == 1)
        #expect(run.err.hasPrefix("error: PM_UNREACHABLE: cannot reach PM at http://127.0.0.1:1: "), "\(run)")
        #expect(run.err.lowercased().contains("connection refused"), "\(run)")
        #expect(run.err.contains("(is `oaas dev` running?)\nhint: "))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("PM URL: --pm over OAAS_PM_URL over the context's pm_url; the correlation id is sent")
    func endpointPrecedence() async throws {
        try await FakePM.withRunning { pm async throws in
            pm.configure { $0.envs = [] }
            let viaEnv = await oaas(["env", "list", "--correlation-id", "req-42"], pm: nil, environment: ["OAAS_PM_URL": pm.url])
            #expect(viaEnv.code == 0, "\(viaEnv)")
            #expect(pm.requests.last?.headers["x-correlation-id"] == "req-42")
            #expect(pm.requests.last?.headers["accept"] == "application/json")

            try await withFiles(["config.yml": "current_context: dev\ncontexts:\n  dev:\n    pm_url: \(pm.url)/\n"]) { dir async throws in
                let config = dir.appendingPathComponent("config.yml").path
                let viaContext = await oaas(["env", "list"], pm: nil, environment: ["OAAS_CONFIG_PATH": config])
                #expect(viaContext.code == 0, "\(viaContext)")
                #expect(pm.requests.last?.headers["x-correlation-id"] == nil)

                // --pm wins over a broken OAAS_PM_URL, which wins over the context.
                let flag = await oaas(["env", "list", "--pm", pm.url], pm: nil, environment: ["OAAS_PM_URL": "ftp://x"])
                #expect(flag.code == 0, "\(flag)")
                let badEnv = await oaas(["env", "list"], pm: nil, environment: ["OAAS_PM_URL": "ftp://x", "OAAS_CONFIG_PATH": config])
                #expect(badEnv.code == 1)
                #expect(badEnv.err.hasPrefix("error: INVALID_ARGUMENT: invalid OAAS_PM_URL 'ftp://x': unsupported scheme 'ftp'"))
            }
            let badFlag = await oaas(["env", "list", "--pm", "ftp://x"], pm: nil)
            #expect(badFlag.code == 2)
            #expect(badFlag.err.contains("invalid --pm 'ftp://x'"))
        }
    }

    @Test("-o json and -o yaml print PM's list faithfully")
    func structuredOutput() async throws {
        try await FakePM.withRunning { pm async throws in
            let envs = try FakePM.parse(Self.envs).arrayValue ?? []
            pm.configure { $0.envs = envs }
            let json = await oaas(["env", "list", "-o", "json"], pm: pm)
            let list = try #require(try parseJSON(json.out).arrayValue)
            #expect(list.count == 2)
            #expect(list.first?[path: "health", "availability"].cell == "0.37")
            #expect(list.first?[path: "health", "node_count"]?.intValue == 3)
            #expect(list.first?["default"]?.boolValue == true)

            let yaml = await oaas(["env", "list", "-o", "yaml"], pm: pm)
            #expect(yaml.out.hasPrefix("- default: true\n"), "\(yaml.out)")
            #expect(yaml.out.contains("  name: local\n"))
            #expect(yaml.out.contains("    availability: 0.37\n"))
        }
    }
}
