import Foundation
import Testing
@testable import OaaSCLI

@Suite("package commands against a fake PM")
struct PackageCommandTests {
    @Test("apply: a new package is POSTed without its deployments; PM warnings and the -d note go to stderr")
    func applyNew() async throws {
        try await FakePM.withRunning { pm async throws in
            pm.configure { $0.packageWarnings = ["function 'Cart.add' has no image"] }
            try await withFiles(["shop.yaml": Fixtures.shop]) { dir async throws in
                let run = await oaas(["package", "apply", dir.appendingPathComponent("shop.yaml").path], pm: pm)
                #expect(run.code == 0, "\(run)")
                #expect(run.out == "✓ package 'shop' created\n")
                #expect(run.err.contains("warning: function 'Cart.add' has no image\n"))
                #expect(run.err.contains("note: 1 deployment(s)"))
                #expect(pm.writes == ["POST packages"])
                let request = try #require(pm.requests.first)
                #expect(request.headers["content-type"] == "application/json")
                let body = try #require(request.json)
                #expect(body["name"]?.stringValue == "shop")
                #expect(body["version"]?.stringValue == "1.2", "YAML 1.2 is sent as the string \"1.2\"")
                #expect(body["deployments"] == nil, "deployments are posted separately, never with the package")
                #expect(body[path: "classes"]?.arrayValue?.count == 1)
            }
        }
    }

    @Test("apply: an existing package is exit 1 without --overwrite, POST /packages/{name} with it")
    func applyExisting() async throws {
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            try await withFiles(["shop.yaml": Fixtures.shop]) { dir async throws in
                let path = dir.appendingPathComponent("shop.yaml").path
                let refused = await oaas(["package", "apply", path], pm: pm)
                #expect(refused.code == 1)
                #expect(refused.err.hasPrefix("error: ALREADY_EXISTS: package 'shop' exists; use --overwrite\n"), "\(refused)")
                #expect(refused.out.isEmpty)
                #expect(pm.writes == ["POST packages"])

                let updated = await oaas(["pkg", "a", path, "-O"], pm: pm)
                #expect(updated.code == 0, "\(updated)")
                #expect(updated.out.hasPrefix("✓ package 'shop' updated\n"))
                #expect(pm.writes == ["POST packages", "POST packages", "POST packages/shop"])
                #expect(pm.requests.last?.json?["name"]?.stringValue == "shop")
            }
        }
    }

    @Test("apply -d: deployments get the package name and If-None-Match, unless --overwrite upserts them")
    func applyDeployments() async throws {
        try await FakePM.withRunning { pm async throws in
            try await withFiles(["shop.yaml": Fixtures.shop]) { dir async throws in
                let path = dir.appendingPathComponent("shop.yaml").path
                let first = await oaas(["package", "apply", path, "-d"], pm: pm)
                #expect(first.code == 0, "\(first)")
                #expect(first.out.contains("✓ deployment 'cart' created\n"))
                #expect(first.rows.contains(["local", "cart-local-unit", "accepted"]))
                #expect(pm.writes == ["POST packages", "POST deployments"])
                let deploy = try #require(pm.requests.last)
                #expect(deploy.headers["if-none-match"] == "*")
                #expect(deploy.json?["package_name"]?.stringValue == "shop")
                #expect(deploy.json?["class_key"]?.stringValue == "Cart")

                let again = await oaas(["package", "apply", path, "-d", "--overwrite"], pm: pm)
                #expect(again.code == 0, "\(again)")
                #expect(again.out.contains("✓ package 'shop' updated\n  redeploying: cart\n"))
                #expect(again.out.contains("✓ deployment 'cart' updated\n"))
                let upsert = try #require(pm.requests.last)
                #expect(upsert.route == "deployments")
                #expect(upsert.headers["if-none-match"] == nil)
            }
        }
    }

    @Test("apply -p renames the package and its deployments")
    func overridePackage() async throws {
        try await FakePM.withRunning { pm async throws in
            try await withFiles(["shop.yaml": Fixtures.shop]) { dir async throws in
                let run = await oaas(["package", "apply", dir.appendingPathComponent("shop.yaml").path, "-p", "shop-staging", "-d"], pm: pm)
                #expect(run.code == 0, "\(run)")
                #expect(run.out.hasPrefix("✓ package 'shop-staging' created\n"))
                let bodies = pm.requests.compactMap(\.json)
                #expect(bodies.first?["name"]?.stringValue == "shop-staging")
                #expect(bodies.last?["package_name"]?.stringValue == "shop-staging")
            }
        }
    }

    @Test("apply: multi-document files apply every package in order, then the deployments; unknown fields warn")
    func multiDocument() async throws {
        let file = """
            name: base
            classes:
            - key: Item
            ---
            name: shop
            dependencies: [base]
            colour: red
            classes:
            - key: Cart
            ---
            key: cart
            package_name: shop
            class_key: Cart
            """
        try await FakePM.withRunning { pm async throws in
            try await withFiles(["all.yml": file]) { dir async throws in
                let run = await oaas(["package", "apply", dir.appendingPathComponent("all.yml").path, "--apply-deployments"], pm: pm)
                #expect(run.code == 0, "\(run)")
                #expect(pm.writes == ["POST packages", "POST packages", "POST deployments"])
                #expect(pm.requests.map { $0.json?["name"]?.stringValue ?? $0.json?["key"]?.stringValue } == ["base", "shop", "cart"])
                #expect(run.err.contains("warning: "))
                #expect(run.err.contains("colour"))
                #expect(run.out == "✓ package 'base' created\n✓ package 'shop' created\n✓ deployment 'cart' created\n"
                    + "  ENV    UNIT             RESULT\n  local  cart-local-unit  accepted\n")
            }
        }
    }

    @Test("apply: a file that does not decode is exit 1 naming the field; nothing is sent")
    func badFile() async throws {
        try await FakePM.withRunning { pm async throws in
            try await withFiles(["bad.yaml": "name: shop\nclasses: {key: Cart}\n"]) { dir async throws in
                let run = await oaas(["package", "apply", dir.appendingPathComponent("bad.yaml").path], pm: pm)
                #expect(run.code == 1)
                #expect(run.err.hasPrefix("error: INVALID_ARGUMENT: "))
                #expect(run.err.contains("classes"))
            }
            let missing = await oaas(["package", "apply", "/no/such/file.yaml"], pm: pm)
            #expect(missing.code == 1)
            #expect(missing.err == "error: NOT_FOUND: file '/no/such/file.yaml' does not exist\n")
            #expect(pm.requests.isEmpty)
        }
    }

    @Test("list: table NAME VERSION CLASSES FUNCTIONS TAGS UPDATED; filters become query parameters")
    func list() async throws {
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            let other = try FakePM.parse(#"{"name":"audit","classes":[],"functions":[],"metadata":{"tags":[]}}"#)
            pm.configure { $0.packages["audit"] = other }
            let run = await oaas(["package", "list"], pm: pm)
            #expect(run.code == 0, "\(run)")
            #expect(run.rows == [
                ["NAME", "VERSION", "CLASSES", "FUNCTIONS", "TAGS", "UPDATED"],
                ["audit", "-", "0", "0", "-", "-"],
                ["shop", "1.2", "1", "1", "demo", "2025-01-02T03:04:05Z"],
            ])

            let filtered = await oaas(["package", "list", "--name-pattern", "sh", "--tag", "demo", "--tag", "x y"], pm: pm)
            #expect(filtered.rows.count == 2)
            let request = try #require(pm.requests.last)
            #expect(request.query("name_pattern") == ["sh"])
            #expect(request.query("tag") == ["demo", "x y"])
            #expect(request.query("limit") == ["1000"])
        }
    }

    @Test("get: table, -o json and -o yaml carry PM's document")
    func getFormats() async throws {
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            let table = await oaas(["package", "get", "shop"], pm: pm)
            #expect(table.rows.last == ["shop", "1.2", "1", "1", "demo", "2025-01-02T03:04:05Z"])

            let json = await oaas(["package", "get", "shop", "-o", "json"], pm: pm)
            let document = try parseJSON(json.out)
            #expect(document["name"]?.stringValue == "shop")
            #expect(document[path: "metadata", "author"]?.stringValue == "team-a")
            #expect(document[path: "functions"]?.arrayValue?.first?[path: "provision_config", "endpoint_url"]?.stringValue
                == "http://127.0.0.1:9101")

            let yaml = await oaas(["package", "get", "shop", "--output", "yaml"], pm: pm)
            #expect(yaml.out.contains("name: shop\n"))
            #expect(yaml.out.contains("version: '1.2'\n") || yaml.out.contains("version: \"1.2\"\n"), "\(yaml.out)")

            let missing = await oaas(["package", "get", "nope"], pm: pm)
            #expect(missing.code == 1)
            #expect(missing.err == "error: NOT_FOUND: package 'nope' not found\n")
        }
    }

    @Test("delete FILE -d: listed deployments first (404 skipped), then the package")
    func deleteFromFile() async throws {
        let file = Fixtures.shop + "\n- {key: ghost, class_key: Cart}\n"
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            let record = try FakePM.parse(#"{"key":"cart","package_name":"shop","class_key":"Cart","status":{"selected_envs":["local"]}}"#)
            pm.configure { $0.deployments["cart"] = record }
            try await withFiles(["shop.yaml": file]) { dir async throws in
                let run = await oaas(["package", "rm", dir.appendingPathComponent("shop.yaml").path, "-d"], pm: pm)
                #expect(run.code == 0, "\(run)")
                #expect(pm.writes == ["DELETE deployments/cart", "DELETE deployments/ghost", "DELETE packages/shop"])
                #expect(run.out == "✓ deployment 'cart' deleted from local\n- deployment 'ghost' not found (skipped)\n✓ package 'shop' deleted\n")
                #expect(pm.state.withLock { $0.packages.isEmpty })
            }
        }
    }

    @Test("delete NAME: IN_USE lists the deployments and points at --cascade, which PM gets as ?cascade=true")
    func deleteCascade() async throws {
        try await FakePM.withRunning { pm async throws in
            try Fixtures.seedShop(pm)
            let record = try FakePM.parse(#"{"key":"cart","package_name":"shop","class_key":"Cart"}"#)
            pm.configure { $0.deployments["cart"] = record }
            let refused = await oaas(["package", "delete", "shop"], pm: pm)
            #expect(refused.code == 1)
            #expect(refused.err == """
                error: IN_USE: package 'shop' has deployments
                  - deployments: cart
                hint: pass --cascade to delete its deployments too, or -d with the file that lists them

                """)
            let cascaded = await oaas(["package", "delete", "shop", "--cascade", "-o", "json"], pm: pm)
            #expect(cascaded.code == 0, "\(cascaded)")
            #expect(pm.requests.last?.query("cascade") == ["true"])
            #expect(try parseJSON(cascaded.out)["packages"]?.arrayValue?.first?["deleted"]?.boolValue == true)
        }
    }
}
