import Foundation
import Testing

/// The control plane under `oaas dev`: packages applied at start and through the CLI, deployed by the local
/// runtime, used through the gateway, updated and deleted.
@Suite(.serialized) struct ControlPlaneDevTests {
    @Test func examplePackageDeploysLocallyAndIsUsable() async throws {
        let (function, functionPort) = try await tcpListener()
        defer { function.close(promise: nil) }
        let pmPort = freePort()
        let gatewayPort = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let example = repositoryRoot.appendingPathComponent("config/examples/shop.yaml").path
        let fn = "http://127.0.0.1:\(functionPort)"
        let dev = try await OaasProcess([
            "dev", "--port", String(pmPort), "--gateway-port", String(gatewayPort), "--data-dir", dir, "-c", example,
            "--function-url", "Cart.add=\(fn)", "--function-url", "Cart.total=\(fn)",
        ], port: gatewayPort)
        let pm = ["--pm", "http://127.0.0.1:\(pmPort)"]
        let env = ["OAAS_CONFIG_PATH": (dir as NSString).appendingPathComponent("config.yml"), "OAAS_WAIT_INTERVAL_MS": "100"]
        #expect(try await eventually { dev.log.contains("oaas dev ready") }, "\(dev.log)")
        #expect(dev.log.contains("pm listening on"), "\(dev.log)")

        // The -c file created the package and its deployment; the Kubernetes env name maps to the local env.
        let status = try await cli(["deploy", "status", "shop-cart", "--wait", "--timeout", "30s"] + pm, environment: env)
        #expect(status.code == 0, "\(status.out)\n\(status.err)\n\(dev.log)")
        #expect(status.out.contains("local"), "\(status.out)")
        let packages = try await cli(["package", "list"] + pm, environment: env)
        #expect(packages.code == 0 && packages.out.contains("shop"), "\(packages)")
        let classes = try await cli(["class", "list"] + pm, environment: env)
        #expect(classes.out.contains("shop.Cart"), "\(classes)")
        let functions = try await cli(["function", "list", "--package", "shop"] + pm, environment: env)
        #expect(functions.out.contains("Cart.add") && functions.out.contains("Cart.total"), "\(functions)")
        let envs = try await cli(["env", "list"] + pm, environment: env)
        #expect(envs.out.contains("local") && envs.out.contains("Healthy"), "\(envs)")
        let runtimes = try await cli(["class-runtimes", "list", "-o", "json"] + pm, environment: env)
        #expect(runtimes.code == 0 && runtimes.out.contains("\"package_name\""), "\(runtimes)")

        // The deployed class has the deployment's 4 partitions (not the 16 of an auto-created class).
        let g = ["-g", "http://127.0.0.1:\(gatewayPort)"]
        let set = try await cli(["object", "setstr", "--cls-id", "shop.Cart", "3", "--object-id-str", "cart-1", "-s", "apples=2"] + g, environment: env)
        #expect(set.code == 0, "\(set)")
        let get = try await cli(["object", "getstr", "--cls-id", "shop.Cart", "3", "--object-id-str", "cart-1", "--key-str", "apples"] + g, environment: env)
        #expect(get.out == "2", "\(get)")
        let outside = try await cli(["object", "setstr", "--cls-id", "shop.Cart", "4", "--object-id-str", "cart-1", "-s", "a=1"] + g, environment: env)
        #expect(outside.code == 1 && outside.err.contains("NOT_FOUND"), "\(outside)")

        // Applying the same file again changes nothing; the same deployment keeps its unit.
        let again = try await cli(["package", "apply", example, "--overwrite"] + pm, environment: env)
        #expect(again.code == 0, "\(again)")
        #expect(again.out.contains("unchanged"), "\(again)")

        // Delete: the runtime goes away and its collection with it.
        let delete = try await cli(["deploy", "delete", "shop-cart"] + pm, environment: env)
        #expect(delete.code == 0, "\(delete)")
        #expect(try await eventually {
            let read = try await cli(["object", "getstr", "--cls-id", "shop.Cart", "3", "--object-id-str", "cart-1"] + g, environment: env)
            return read.code == 1 && read.err.contains("NOT_FOUND")
        })
        let removed = try await cli(["package", "delete", "shop"] + pm, environment: env)
        #expect(removed.code == 0, "\(removed)")
        let none = try await cli(["package", "get", "shop"] + pm, environment: env)
        #expect(none.code == 1 && none.err.contains("NOT_FOUND"), "\(none)")
    }

    @Test func containerOnlyFunctionIsDegradedWithAHint() async throws {
        let pmPort = freePort()
        let gatewayPort = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = (dir as NSString).appendingPathComponent("pkg.yaml")
        try """
            name: imgs
            classes:
              - key: Thing
                function_bindings: [{name: run, function_key: run}]
            functions:
              - key: run
                provision_config: {container_image: "registry.example.com/run:1"}
            deployments:
              - {key: things, package_name: imgs, class_key: Thing}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let dev = try await OaasProcess(["dev", "--port", String(pmPort), "--gateway-port", String(gatewayPort), "--data-dir", dir],
                                        port: gatewayPort)
        let pm = ["--pm", "http://127.0.0.1:\(pmPort)"]
        let env = ["OAAS_CONFIG_PATH": (dir as NSString).appendingPathComponent("config.yml"), "OAAS_WAIT_INTERVAL_MS": "100"]
        let apply = try await cli(["package", "apply", file, "-d"] + pm, environment: env)
        #expect(apply.code == 0, "\(apply)\n\(dev.log)")
        let status = try await cli(["deploy", "status", "things", "--wait", "--timeout", "20s"] + pm, environment: env)
        #expect(status.code == 1, "\(status)")
        #expect((status.out + status.err).contains("NoLocalRuntime"), "\(status)")
        #expect((status.out + status.err).contains("--function-url"), "\(status)")
    }
}
