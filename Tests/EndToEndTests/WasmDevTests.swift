import Foundation
import Testing

/// WASM functions end to end: `oaas dev` deploys a package whose functions are WAT modules from Examples/wasm,
/// ODGM runs them in-process, and their state changes are read back through the data API.
@Suite struct WasmDevTests {
    @Test func wasmFunctionsRunInsideODGMUnderOaasDev() async throws {
        let pmPort = freePort()
        let gatewayPort = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let examples = repositoryRoot.appendingPathComponent("Examples/wasm").path
        let package = """
        name: wasmdemo
        classes:
          - key: Counter
            state_spec: {persistent: true}
            function_bindings:
              - {name: incr, function_key: wasmdemo.incr}
              - {name: echo, function_key: wasmdemo.echo, stateless: true}
              - {name: spin, function_key: wasmdemo.spin, stateless: true}
              - {name: trap, function_key: wasmdemo.trap, stateless: true}
        functions:
          - {key: wasmdemo.incr, function_type: WASM, provision_config: {wasm_module_url: "file://\(examples)/incr.wat"}}
          - {key: wasmdemo.echo, function_type: WASM, provision_config: {wasm_module_url: "file://\(examples)/echo.wat"}}
          - {key: wasmdemo.spin, function_type: WASM, provision_config: {wasm_module_url: "file://\(examples)/spin.wat", wasm_fuel: 2000000}}
          - {key: wasmdemo.trap, function_type: WASM, provision_config: {wasm_module_url: "file://\(examples)/trap.wat"}}
        deployments:
          - {key: wasm-counter, package_name: wasmdemo, class_key: Counter, odgm: {partition_count: 2, shard_type: none}}
        """
        let file = (dir as NSString).appendingPathComponent("wasmdemo.yaml")
        try package.write(toFile: file, atomically: true, encoding: .utf8)
        let dev = try await OaasProcess(
            ["dev", "--port", String(pmPort), "--gateway-port", String(gatewayPort), "--data-dir", dir, "-c", file],
            port: gatewayPort)
        let env = ["OAAS_CONFIG_PATH": (dir as NSString).appendingPathComponent("config.yml"), "OAAS_WAIT_INTERVAL_MS": "100"]
        let status = try await cli(["deploy", "status", "wasm-counter", "--wait", "--timeout", "30s", "--pm", "http://127.0.0.1:\(pmPort)"],
                                   environment: env)
        #expect(status.code == 0, "\(status)\n\(dev.log)")
        let cls = "wasmdemo.Counter"

        let (echo, _, echoBody) = try await dev.http("POST", "/api/class/\(cls)/1/invokes/echo", body: Data("from wasm".utf8))
        #expect(echo == 200, "\(String(decoding: echoBody, as: UTF8.self))\n\(dev.log)")
        #expect(String(decoding: echoBody, as: UTF8.self) == "from wasm")

        // The module keeps its state in the object's entries: 1, then +10, read back through the data API.
        let (first, _, firstBody) = try await dev.http("POST", "/api/class/\(cls)/0/objects/7/invokes/incr")
        #expect(first == 200 && String(decoding: firstBody, as: UTF8.self) == "1", "\(String(decoding: firstBody, as: UTF8.self))")
        let (second, _, secondBody) = try await dev.http("POST", "/api/class/\(cls)/0/objects/7/invokes/incr", body: Data("10".utf8))
        #expect(second == 200 && String(decoding: secondBody, as: UTF8.self) == "11")
        let (read, _, readBody) = try await dev.http("GET", "/api/class/\(cls)/0/objects/7/entries/0")
        #expect(read == 200 && String(decoding: readBody, as: UTF8.self) == "11", "\(String(decoding: readBody, as: UTF8.self))")

        // A runaway loop runs out of its fuel and a trap is reported; both are SYSTEM_ERROR (502) and the node serves on.
        let (spin, spinHeaders, spinBody) = try await dev.http("POST", "/api/class/\(cls)/0/invokes/spin")
        #expect(spin == 502 && spinHeaders.first { $0.key.lowercased() == "x-oprc-status" }?.value == "SYSTEM_ERROR")
        #expect(String(decoding: spinBody, as: UTF8.self).contains("fuel"), "\(String(decoding: spinBody, as: UTF8.self))")
        let (trap, _, trapBody) = try await dev.http("POST", "/api/class/\(cls)/0/invokes/trap")
        #expect(trap == 502, "\(String(decoding: trapBody, as: UTF8.self))")
        let (again, _, _) = try await dev.http("POST", "/api/class/\(cls)/1/invokes/echo", body: Data("still".utf8))
        #expect(again == 200)
    }
}
