import Foundation
import Testing
@testable import OaaSCLI

@Suite("deploy commands against a fake PM")
struct DeployCommandTests {
    typealias Env = (env: String, condition: String, message: String?)

    static func script(_ pm: FakePM, _ key: String, _ views: [StructuredValue]) {
        pm.configure { $0.statusScript[key] = views }
    }

    @Test("apply: create-only with If-None-Match, per-env units printed; exists → exit 1; --overwrite upserts")
    func apply() async throws {
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            try await withFiles(["cart.yaml": Fixtures.deployment]) { dir async throws in
                let path = dir.appendingPathComponent("cart.yaml").path
                let created = await oaas(["deploy", "apply", path], pm: pm)
                #expect(created.code == 0, "\(created)")
                #expect(created.out == "✓ deployment 'cart' created\n  ENV    UNIT             RESULT\n  local  cart-local-unit  accepted\n")
                #expect(pm.requests.last?.headers["if-none-match"] == "*")

                let refused = await oaas(["dep", "apply", path], pm: pm)
                #expect(refused.code == 1)
                #expect(refused.err.hasPrefix("error: ALREADY_EXISTS: deployment 'cart' exists; use --overwrite\n"))

                let updated = await oaas(["de", "apply", path, "--overwrite"], pm: pm)
                #expect(updated.code == 0, "\(updated)")
                #expect(updated.out.hasPrefix("✓ deployment 'cart' updated\n"))
                #expect(pm.requests.last?.headers["if-none-match"] == nil)
            }
        }
    }

    @Test("apply accepts a package-shaped document and a list; -p sets the package of every deployment")
    func applyShapes() async throws {
        let list = """
            - {key: a, class_key: Cart}
            - {key: b, class_key: Cart, package_name: other}
            """
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            try await withFiles(["shop.yaml": Fixtures.shop, "list.yaml": list]) { dir async throws in
                let fromPackage = await oaas(["deploy", "apply", dir.appendingPathComponent("shop.yaml").path], pm: pm)
                #expect(fromPackage.code == 0, "\(fromPackage)")
                #expect(pm.writes == ["POST deployments"], "the package document itself is not applied")
                #expect(pm.requests.last?.json?["package_name"]?.stringValue == "shop")

                let fromList = await oaas(["deploy", "apply", dir.appendingPathComponent("list.yaml").path, "-p", "shop", "-o", "json"], pm: pm)
                #expect(fromList.code == 0, "\(fromList)")
                #expect(pm.requests.suffix(2).map { $0.json?["package_name"]?.stringValue } == ["shop", "shop"])
                let output = try parseJSON(fromList.out)
                #expect(output["deployments"]?.arrayValue?.map { $0["id"]?.stringValue } == ["a", "b"])
            }
        }
    }

    @Test("PM errors on apply: NOT_FOUND names the field; no deployments in the file is a usage error")
    func applyErrors() async throws {
        try await FakePM.withRunning { pm async throws in
            try await withFiles(["cart.yaml": Fixtures.deployment, "pkg.yaml": "name: empty\n"]) { dir async throws in
                let missingPackage = await oaas(["deploy", "apply", dir.appendingPathComponent("cart.yaml").path], pm: pm)
                #expect(missingPackage.code == 1)
                #expect(missingPackage.err == "error: NOT_FOUND: package_name: package 'shop' not found\n")

                let noDeployments = await oaas(["deploy", "apply", dir.appendingPathComponent("pkg.yaml").path], pm: pm)
                #expect(noDeployments.code == 2)
                #expect(noDeployments.err.hasPrefix("error: INVALID_ARGUMENT: '"))
            }
        }
    }

    @Test("status: table ENV UNIT CONDITION TEMPLATE READY MESSAGE (last_error when there is no message)")
    func statusTable() async throws {
        try await FakePM.withRunning { pm async throws in
            var view = FakePM.statusView("cart", condition: "DEPLOYING", envs: [
                (env: "edge-1", condition: "Deploying", message: "Progressing"), (env: "local", condition: "Running", message: nil),
            ], ready: "0/1")
            view = view.setting("envs", to: .array((view["envs"]?.arrayValue ?? []).enumerated().map { index, env in
                index == 1 ? env.setting("last_error", to: .string("retrying")) : env
            }))
            Self.script(pm, "cart", [view])
            let run = await oaas(["deploy", "status", "cart"], pm: pm)
            #expect(run.code == 0, "\(run)")
            #expect(run.out == """
                ENV     UNIT              CONDITION  TEMPLATE  READY  MESSAGE
                edge-1  cart-edge-1-unit  Deploying  dev       0/1    Progressing
                local   cart-local-unit   Running    dev       0/1    retrying

                """)
            let json = await oaas(["deploy", "status", "cart", "-o", "json"], pm: pm)
            #expect(try parseJSON(json.out)["condition"]?.stringValue == "DEPLOYING")
        }
    }

    @Test("status --wait: progress lines until RUNNING everywhere, exit 0")
    func waitRunning() async throws {
        try await FakePM.withRunning { pm async throws in
            Self.script(pm, "cart", [
                FakePM.statusView("cart", condition: "PENDING", envs: []),
                FakePM.statusView("cart", condition: "DEPLOYING", envs: [(env: "local", condition: "Deploying", message: "Progressing")], ready: "0/1"),
                FakePM.statusView("cart", condition: "DEPLOYING", envs: [(env: "local", condition: "Deploying", message: "Progressing")], ready: "0/1"),
                FakePM.statusView("cart", condition: "RUNNING", envs: [(env: "local", condition: "Running", message: "Available")]),
            ])
            let run = await oaas(["deploy", "status", "cart", "--wait"], pm: pm)
            #expect(run.code == 0, "\(run)")
            let lines = run.out.split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "one line per change, not per poll: \(lines)")
            #expect(lines[0] == "cart: PENDING (no env reported yet)")
            #expect(lines[1] == "cart/local: Deploying (ready 0/1) Progressing")
            #expect(lines[2] == "cart/local: Running (ready 1/1) Available")
            #expect(lines[3].hasPrefix("✓ deployment 'cart' is RUNNING ("))
            #expect(pm.requests.filter { $0.route == "deployments/cart/status" }.count == 4)
        }
    }

    @Test("status --wait: DOWN is exit 1 with the env's message")
    func waitDown() async throws {
        try await FakePM.withRunning { pm async throws in
            Self.script(pm, "cart", [
                FakePM.statusView("cart", condition: "DEPLOYING", envs: [(env: "local", condition: "Deploying", message: nil)], ready: "0/1"),
                FakePM.statusView("cart", condition: "DOWN", envs: [
                    (env: "local", condition: "Down", message: "Degraded (NoLocalRuntime): function 'Cart.add' has no runtime"),
                ], ready: "0/1"),
            ])
            let run = await oaas(["deploy", "status", "cart", "--wait"], pm: pm)
            #expect(run.code == 1, "\(run)")
            #expect(run.err == """
                error: DEPLOYMENT_DOWN: deployment 'cart' is DOWN
                  - local: Degraded (NoLocalRuntime): function 'Cart.add' has no runtime
                hint: see 'oaas deploy status cart'

                """)
        }
    }

    @Test("status --wait --timeout: not RUNNING in time is exit 6, promptly")
    func waitTimeout() async throws {
        try await FakePM.withRunning { pm async throws in
            Self.script(pm, "cart", [
                FakePM.statusView("cart", condition: "DEPLOYING", envs: [(env: "local", condition: "Deploying", message: nil)], ready: "0/1"),
            ])
            let started = ContinuousClock.now
            // Long enough that the first poll answers even on a loaded 2-core CI machine.
            let run = await oaas(["deploy", "status", "cart", "--wait", "--timeout", "3s"], pm: pm)
            let elapsed = ContinuousClock.now - started
            #expect(run.code == 6, "\(run)")
            #expect(run.err.hasPrefix("error: DEADLINE_EXCEEDED: deployment 'cart' is not RUNNING after 3s\n  - local: Deploying\n"), "\(run.err)")
            #expect(run.out == "cart/local: Deploying (ready 0/1)\n", "an unchanged state is printed once")
            #expect(elapsed >= .seconds(3))
            #expect(elapsed < .seconds(20))
            // How many polls fit in 3 s depends on the machine's load (polling itself: `waitRunning`).
            #expect(!pm.requests.isEmpty)
        }
    }

    @Test("status --watch prints the table on each change; a missing deployment is exit 1")
    func watch() async throws {
        try await FakePM.withRunning { pm async throws in
            Self.script(pm, "cart", [
                FakePM.statusView("cart", condition: "DEPLOYING", envs: [(env: "local", condition: "Deploying", message: nil)], ready: "0/1"),
                FakePM.statusView("cart", condition: "RUNNING", envs: [(env: "local", condition: "Running", message: nil)]),
            ])
            let run = await oaas(["deploy", "status", "cart", "--watch", "-o", "json"], pm: pm)
            #expect(run.code == 0, "\(run)")
            #expect(try parseJSON(run.out)["condition"]?.stringValue == "RUNNING", "stdout holds only the final view")
            #expect(run.err.contains("ENV    UNIT             CONDITION  TEMPLATE  READY  MESSAGE\nlocal  cart-local-unit  Deploying"))
            #expect(run.err.contains("\nlocal  cart-local-unit  Running    dev       1/1    -\n"))

            let missing = await oaas(["deploy", "status", "ghost", "--wait"], pm: pm)
            #expect(missing.code == 1)
            #expect(missing.err == "error: NOT_FOUND: deployment 'ghost' not found\n")
        }
    }

    @Test("apply --wait applies, then waits for each deployment")
    func applyWait() async throws {
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            Self.script(pm, "cart", [
                FakePM.statusView("cart", condition: "DEPLOYING", envs: [(env: "local", condition: "Deploying", message: nil)], ready: "0/1"),
                FakePM.statusView("cart", condition: "RUNNING", envs: [(env: "local", condition: "Running", message: nil)]),
            ])
            try await withFiles(["cart.json": #"{"key":"cart","package_name":"shop","class_key":"Cart"}"#]) { dir async throws in
                let run = await oaas(["deploy", "apply", dir.appendingPathComponent("cart.json").path, "--wait", "--timeout", "5s"], pm: pm)
                #expect(run.code == 0, "\(run)")
                #expect(run.out.contains("✓ deployment 'cart' created\n"))
                #expect(run.out.contains("cart/local: Deploying (ready 0/1)\n"))
                #expect(run.out.contains("✓ deployment 'cart' is RUNNING"))
                #expect(pm.requests.map(\.route) == ["deployments", "deployments/cart/status", "deployments/cart/status"])
            }
        }
    }

    @Test("a bad --timeout or OAAS_WAIT_INTERVAL_MS is a usage error before anything is sent")
    func badWaitSettings() async throws {
        try await FakePM.withRunning { pm async throws in
            let timeout = await oaas(["deploy", "status", "cart", "--wait", "--timeout", "soon"], pm: pm)
            #expect(timeout.code == 2)
            #expect(timeout.err.contains("invalid --timeout 'soon'"))
            let interval = await oaas(["deploy", "status", "cart", "--wait"], pm: pm, environment: ["OAAS_WAIT_INTERVAL_MS": "fast"])
            #expect(interval.code == 2)
            #expect(interval.err.hasPrefix("error: INVALID_ARGUMENT: invalid OAAS_WAIT_INTERVAL_MS 'fast'"))
            #expect(pm.requests.isEmpty)
        }
    }

    @Test("list and delete")
    func listAndDelete() async throws {
        try await FakePM.withRunning { pm async throws in
            let record = try FakePM.parse("""
                {"key":"cart","package_name":"shop","class_key":"Cart","condition":"RUNNING","revision":1736000000000,
                 "status":{"selected_envs":["local","edge"]},"updated_at":"2025-01-02T03:04:05Z"}
                """)
            pm.configure { $0.deployments["cart"] = record }
            let list = await oaas(["deploy", "list", "--package", "shop"], pm: pm)
            #expect(list.rows == [
                ["KEY", "PACKAGE", "CLASS", "CONDITION", "ENVS", "REVISION", "UPDATED"],
                ["cart", "shop", "Cart", "RUNNING", "local,edge", "1736000000000", "2025-01-02T03:04:05Z"],
            ])
            #expect(pm.requests.last?.query("package_name") == ["shop"])

            let one = await oaas(["deploy", "list", "cart", "-o", "yaml"], pm: pm)
            #expect(one.out.contains("key: cart\n"))

            let deleted = await oaas(["deploy", "delete", "cart"], pm: pm)
            #expect(deleted.code == 0, "\(deleted)")
            #expect(deleted.out == "✓ deployment 'cart' deleted from local, edge\n")
            let again = await oaas(["deploy", "rm", "cart"], pm: pm)
            #expect(again.code == 1)
            #expect(again.err == "error: NOT_FOUND: deployment 'cart' not found\n")
        }
    }
}
