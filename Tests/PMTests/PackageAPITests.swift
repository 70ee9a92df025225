import Foundation
import HTTPTypes
import PM
import Testing

/// Packages, classes and functions over real HTTP (control-plane spec §4, §16 "PM").
@Suite struct PackageAPITests {
    @Test func smokePackageAndDeploymentAndHealth() async throws {
        try await PMHarness.run(crms: [FakeCRM(env: "default")]) { pm in
            let created = try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            #expect(created.status == 201)
            #expect(try created.object().string("status") == "created")
            #expect(created.header("Location") == "/api/v1/packages/shop")

            let fetched = try await pm.get("/api/v1/packages/shop")
            #expect(fetched.status == 200)
            let metadata = try #require(try fetched.object().object("metadata"))
            #expect(metadata.string("created_at") != nil)
            #expect(metadata.string("updated_at") != nil)
            #expect(fetched.header("ETag")?.hasPrefix("\"") == true)

            let deployed = try await pm.post("/api/v1/deployments", Fixtures.deployment(extra: #""target_envs":["default"]"#))
            #expect(deployed.status == 201, "\(deployed.text)")
            let units = try deployed.object().objects("units")
            #expect(units.count == 1)
            #expect(units.first?.string("env") == "default")
            #expect(units.first?.string("result") == "accepted")

            let health = try await pm.get("/health")
            #expect(health.status == 200)
            let body = try health.object()
            #expect(body.string("status") == "healthy")
            #expect(body.string("service") == "oaas-pm")
            #expect(body.object("storage")?.string("status") == "ok")
        }
    }

    @Test func yamlAndJSONBodiesStoreIdenticalPackages() async throws {
        try await PMHarness.run { pm in
            #expect(try await pm.post("/api/v1/packages", Fixtures.shopJSON).status == 201)
            let yaml = Fixtures.shopYAML.replacingOccurrences(of: "name: shop", with: "name: shop2")
            #expect(try await pm.post("/api/v1/packages", yaml, contentType: "application/yaml").status == 201)
            // No content type at all: sniffed as YAML.
            let sniffed = Fixtures.shopYAML.replacingOccurrences(of: "name: shop", with: "name: shop3")
            #expect(try await pm.post("/api/v1/packages", sniffed, contentType: nil).status == 201)

            func normalized(_ name: String) async throws -> [String: Any] {
                var object = try await pm.get("/api/v1/packages/\(name)").object()
                object["name"] = nil
                var metadata = object.object("metadata") ?? [:]
                metadata["created_at"] = nil
                metadata["updated_at"] = nil
                object["metadata"] = metadata
                return object
            }
            let fromJSON = try await normalized("shop")
            #expect(NSDictionary(dictionary: fromJSON).isEqual(to: try await normalized("shop2")))
            #expect(NSDictionary(dictionary: fromJSON).isEqual(to: try await normalized("shop3")))
            #expect(fromJSON.string("version") == "1.2")

            // YAML out when asked for.
            let yamlOut = try await pm.get("/api/v1/packages/shop", headers: [.accept: "application/yaml"])
            #expect(yamlOut.header("Content-Type") == "application/yaml")
            #expect(yamlOut.text.contains("name: shop"))
        }
    }

    @Test(arguments: [
        ("duplicate class key", Fixtures.package("p", classes: #"[{"key":"C"},{"key":"C"}]"#), "classes[1].key"),
        ("duplicate function key", Fixtures.package("p", functions: #"[{"key":"fn","provision_config":{"container_image":"i"}},{"key":"fn","provision_config":{"container_image":"i"}}]"#), "functions[1].key"),
        ("binding to a missing function", Fixtures.package("p", classes: #"[{"key":"C","function_bindings":[{"name":"run","function_key":"nope"}]}]"#), "classes[0].function_bindings[0].function_key"),
        ("bad name", Fixtures.package("bad name"), "name"),
        ("missing dependency", Fixtures.package("p", dependencies: ["ghost"]), "dependencies[0]"),
    ])
    func validationNamesTheField(_ label: String, _ body: String, _ field: String) async throws {
        try await PMHarness.run { pm in
            let response = try await pm.post("/api/v1/packages", body)
            #expect(response.status == 400, "\(label): \(response.text)")
            #expect(response.errorCode == "VALIDATION_FAILED", "\(label)")
            #expect(response.errorField == field, "\(label): \(response.text)")
            #expect(try await pm.get("/api/v1/packages/p").status == 404, "\(label): nothing stored")
        }
    }

    @Test func dependencyCycleIsRejected() async throws {
        try await PMHarness.run { pm in
            #expect(try await pm.post("/api/v1/packages", Fixtures.package("a")).status == 201)
            #expect(try await pm.post("/api/v1/packages", Fixtures.package("b", dependencies: ["a"])).status == 201)
            // a → b → a
            let cycle = try await pm.post("/api/v1/packages/a", Fixtures.package("a", dependencies: ["b"]))
            #expect(cycle.status == 400)
            #expect(cycle.errorField == "dependencies[0]")
            #expect(cycle.errorMessage?.contains("cycle") == true)
            // The dependency is indexed: `a` cannot go while `b` needs it.
            let inUse = try await pm.delete("/api/v1/packages/a")
            #expect(inUse.status == 409)
            #expect(inUse.errorCode == "IN_USE")
        }
    }

    @Test func unknownFieldsWarnOrFailWhenStrict() async throws {
        try await PMHarness.run { pm in
            let body = #"{"name":"p","classes":[],"surprise":1}"#
            let strict = try await pm.post("/api/v1/packages?strict=true", body)
            #expect(strict.status == 400)
            #expect(strict.errorField == "surprise")
            let lenient = try await pm.post("/api/v1/packages", body)
            #expect(lenient.status == 201)
            #expect(try lenient.object().strings("warnings").contains { $0.contains("surprise") })
        }
    }

    @Test func malformedBodiesAreClearErrors() async throws {
        try await PMHarness.run { pm in
            let brokenJSON = try await pm.post("/api/v1/packages", #"{"name": "p", "classes": [}"#)
            #expect(brokenJSON.status == 400)
            #expect(brokenJSON.errorCode == "BAD_REQUEST")
            let brokenYAML = try await pm.post("/api/v1/packages", "name: [unclosed", contentType: "application/yaml")
            #expect(brokenYAML.status == 400)
            let twoDocs = try await pm.post("/api/v1/packages", "name: a\n---\nname: b\n", contentType: "application/yaml")
            #expect(twoDocs.status == 400)
            #expect(twoDocs.errorCode == "BAD_REQUEST")
            let wrongType = try await pm.post("/api/v1/packages", #"{"name":"p","classes":"nope"}"#)
            #expect(wrongType.status == 400)
            #expect(wrongType.errorField == "classes")
            let media = try await pm.post("/api/v1/packages", "<xml/>", contentType: "application/xml")
            #expect(media.status == 415)
            #expect(media.errorCode == "UNSUPPORTED_MEDIA_TYPE")
        }
    }

    @Test func bodyLimitAnswers413() async throws {
        try await PMHarness.run(configure: { $0.maxBodyBytes = 64 }) { pm in
            let response = try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            #expect(response.status == 413)
            #expect(response.errorCode == "PAYLOAD_TOO_LARGE")
        }
    }

    @Test func conflictsAndPreconditions() async throws {
        try await PMHarness.run { pm in
            #expect(try await pm.post("/api/v1/packages", Fixtures.shopJSON).status == 201)
            let again = try await pm.post("/api/v1/packages", Fixtures.shopJSON)
            #expect(again.status == 409)
            #expect(again.errorCode == "ALREADY_EXISTS")

            let missing = try await pm.post("/api/v1/packages/ghost", Fixtures.package("ghost"))
            #expect(missing.status == 404)
            #expect(missing.errorCode == "NOT_FOUND")

            let mismatch = try await pm.put("/api/v1/packages/shop", Fixtures.package("other"))
            #expect(mismatch.status == 400)
            #expect(mismatch.errorField == "name")

            let etag = try #require(try await pm.get("/api/v1/packages/shop").header("ETag"))
            let changed = Fixtures.shopJSON.replacingOccurrences(of: "\"1.2\"", with: "\"1.3\"")
            let stale = try await pm.put("/api/v1/packages/shop", changed, headers: [.ifMatch: "\"1\""])
            #expect(stale.status == 412)
            #expect(stale.errorCode == "PRECONDITION_FAILED")
            let fresh = try await pm.put("/api/v1/packages/shop", changed, headers: [.ifMatch: etag])
            #expect(fresh.status == 200, "\(fresh.text)")
            #expect(try fresh.object().string("status") == "updated")
            let unchanged = try await pm.put("/api/v1/packages/shop", changed)
            #expect(try unchanged.object().string("status") == "unchanged")
            // created_at survives updates.
            let metadata = try await pm.get("/api/v1/packages/shop").object().object("metadata")
            #expect(metadata?.string("created_at") != metadata?.string("updated_at"))

            let staleDelete = try await pm.delete("/api/v1/packages/shop", headers: [.ifMatch: etag])
            #expect(staleDelete.status == 412)
            #expect(try await pm.delete("/api/v1/packages/shop").status == 204)
            #expect(try await pm.delete("/api/v1/packages/shop").status == 404)
        }
    }

    @Test func listFiltersAndStablePaging() async throws {
        try await PMHarness.run { pm in
            for (name, tag) in [("beta", "x"), ("alpha", "y"), ("gamma", "x"), ("alphabet", "z")] {
                let body = #"{"name":"\#(name)","metadata":{"tags":["\#(tag)"]}}"#
                #expect(try await pm.post("/api/v1/packages", body).status == 201)
            }
            let all = try await pm.get("/api/v1/packages")
            #expect(try all.array().compactMap { $0.string("name") } == ["alpha", "alphabet", "beta", "gamma"])
            #expect(all.header("X-Total-Count") == "4")
            let page = try await pm.get("/api/v1/packages?limit=2&offset=1")
            #expect(try page.array().compactMap { $0.string("name") } == ["alphabet", "beta"])
            #expect(page.header("X-Total-Count") == "4")
            #expect(try await pm.get("/api/v1/packages?name_pattern=ALPHA").array().count == 2)
            #expect(try await pm.get("/api/v1/packages?tag=x").array().compactMap { $0.string("name") } == ["beta", "gamma"])
            #expect(try await pm.get("/api/v1/packages?tag=y&tag=z").array().count == 2)
            #expect(try await pm.get("/api/v1/packages?tags=y,z").array().count == 2)
            let bad = try await pm.get("/api/v1/packages?limit=zero")
            #expect(bad.status == 400)
            #expect(bad.errorField == "limit")
        }
    }

    @Test func classAndFunctionViews() async throws {
        try await PMHarness.run { pm in
            #expect(try await pm.post("/api/v1/packages", Fixtures.shopJSON).status == 201)
            let classes = try await pm.get("/api/v1/classes").array()
            #expect(classes.first?.string("key") == "shop.Cart")
            #expect(classes.first?.string("class_key") == "Cart")
            #expect(classes.first?.string("package_name") == "shop")
            #expect(try await pm.get("/api/v1/classes/shop.Cart").status == 200)
            #expect(try await pm.get("/api/v1/classes/shop.Nope").status == 404)
            #expect(try await pm.get("/api/v1/classes/noDot").status == 400)
            let deleteClass = try await pm.delete("/api/v1/classes/shop.Cart")
            #expect(deleteClass.status == 405)
            #expect(deleteClass.errorCode == "METHOD_NOT_ALLOWED")
            #expect(deleteClass.header("Allow") == "GET")

            let functions = try await pm.get("/api/v1/functions?package=shop&filter=total").array()
            #expect(functions.count == 1)
            #expect(functions.first?.string("key") == "Cart.total")
            #expect(functions.first?.strings("bound_by") == ["shop.Cart.total"])
            let one = try await pm.get("/api/v1/functions/shop.Cart.add")
            #expect(try one.object().string("key") == "Cart.add")
        }
    }

    @Test func unknownAndReservedRoutesUseTheEnvelope() async throws {
        try await PMHarness.run { pm in
            for path in ["/api/v1/nothing", "/api/v1/topology", "/api/gateway/x", "/api/v1/scripts/a", "/api/v1/artifacts/b", "/api/v1/network-sim"] {
                let response = try await pm.get(path)
                #expect(response.status == 404, "\(path)")
                #expect(response.errorCode == "NOT_FOUND", "\(path)")
            }
            let wrongMethod = try await pm.send(.patch, "/api/v1/packages")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.errorCode == "METHOD_NOT_ALLOWED")
        }
    }

    @Test func correlationIdIsEchoedAndCORSApplied() async throws {
        try await PMHarness.run(configure: { $0.corsOrigins = ["https://ui.example.com"] }) { pm in
            var headers = HTTPFields()
            headers[HTTPField.Name("X-Request-ID")!] = "req-42"
            headers[.origin] = "https://ui.example.com"
            let response = try await pm.get("/api/v1/packages", headers: headers)
            #expect(response.header("X-Correlation-ID") == "req-42")
            #expect(response.header("Access-Control-Allow-Origin") == "https://ui.example.com")
            let generated = try await pm.get("/api/v1/packages")
            #expect(UUID(uuidString: generated.header("X-Correlation-ID") ?? "") != nil)
            var other = HTTPFields()
            other[.origin] = "https://evil.example.com"
            #expect(try await pm.get("/api/v1/packages", headers: other).header("Access-Control-Allow-Origin") == nil)
            var preflight = HTTPFields()
            preflight[.origin] = "https://ui.example.com"
            preflight[.accessControlRequestMethod] = "POST"
            let options = try await pm.send(.options, "/api/v1/packages", headers: preflight)
            #expect(options.status == 204)
            #expect(options.header("Access-Control-Allow-Methods")?.contains("POST") == true)
        }
    }

    @Test func requestMetricsAreRecorded() async throws {
        try await PMHarness.run { pm in
            try await pm.get("/api/v1/packages")
            try await pm.get("/api/v1/packages/none")
            #expect(pm.metrics.value("pm_http_requests_total", [("route", "/api/v1/packages"), ("code", "200")]) == 1)
            #expect(pm.metrics.value("pm_http_requests_total", [("route", "/api/v1/packages/{name}"), ("code", "404")]) == 1)
        }
    }
}
