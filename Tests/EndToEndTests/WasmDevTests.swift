import Foundation
import GRPCCore
import OaaSProto
import Testing

/// WASM functions end to end: `oaas dev` deploys a package whose functions are WAT modules from Examples/wasm,
/// ODGM runs them in-process, clients call them over REST, gRPC and the CLI, and their state changes are read
/// back through the data API. Modules load at deploy time, so a broken one is in the log before any call.
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
              - {name: lost, function_key: wasmdemo.lost, stateless: true}
        functions:
          - {key: wasmdemo.incr, function_type: WASM, provision_config: {wasm_module_url: "file://\(examples)/incr.wat"}}
          - {key: wasmdemo.echo, function_type: WASM, provision_config: {wasm_module_url: "file://\(examples)/echo.wat"}}
          - {key: wasmdemo.spin, function_type: WASM, provision_config: {wasm_module_url: "file://\(examples)/spin.wat", wasm_fuel: 2000000}}
          - {key: wasmdemo.trap, function_type: WASM, provision_config: {wasm_module_url: "file://\(examples)/trap.wat"}}
          - {key: wasmdemo.lost, function_type: WASM, provision_config: {wasm_module_url: "file://\(dir)/lost.wat"}}
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

        // The deploy preloads the modules: the missing one is reported with its function and URL before any call.
        let reported = try await eventually(timeout: .seconds(10)) {
            dev.log.contains("wasm module of function 'lost' in class '\(cls)' failed to load: wasm module file '\(dir)/lost.wat' not found")
        }
        #expect(reported, "\(dev.log)")

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
        // The broken module answers as documented, naming the file, and costs no new load per call.
        let (lost, _, lostBody) = try await dev.http("POST", "/api/class/\(cls)/0/invokes/lost")
        #expect(lost == 502)
        #expect(String(decoding: lostBody, as: UTF8.self) == "wasm function 'wasmdemo.lost': wasm module file '\(dir)/lost.wat' not found")

        // gRPC on the gateway port (spec §8.7): the same functions through OprcFunction. WASM failures are not gRPC
        // errors but SYSTEM_ERROR responses whose payload names the cause (spec §5.2, §9.6).
        let overGRPC = try await dev.withClient { client in
            let functions = Oprc_OprcFunction.Client(wrapping: client)
            var call = Oprc_InvocationRequest()
            call.clsID = cls
            call.partitionID = 1
            call.fnID = "echo"
            call.payload = Data("over grpc".utf8)
            let echo = try await functions.invokeFn(call)
            var method = Oprc_ObjectInvocationRequest()
            method.clsID = cls
            method.partitionID = 0
            method.objectID = 7
            method.fnID = "incr"
            method.payload = Data("5".utf8)
            let incr = try await functions.invokeObj(method)
            call.partitionID = 0
            call.payload = Data()
            call.fnID = "spin"
            let spin = try await functions.invokeFn(call)
            call.fnID = "trap"
            let trap = try await functions.invokeFn(call)
            var key = Oprc_SingleKeyRequest()
            key.clsID = cls
            key.partitionID = 0
            key.objectID = 7
            key.key = 0
            let stored = try await Oprc_DataService.Client(wrapping: client).getValue(key)
            return (echo: echo, incr: incr, spin: spin, trap: trap, stored: stored)
        }
        #expect(overGRPC.echo.status == .okay && String(decoding: overGRPC.echo.payload, as: UTF8.self) == "over grpc")
        #expect(overGRPC.echo.invocationID.isEmpty == false)
        #expect(overGRPC.incr.status == .okay && String(decoding: overGRPC.incr.payload, as: UTF8.self) == "16",
                "\(String(decoding: overGRPC.incr.payload, as: UTF8.self))")
        #expect(String(decoding: overGRPC.stored.value.data, as: UTF8.self) == "16")
        #expect(overGRPC.spin.status == .systemError)
        #expect(String(decoding: overGRPC.spin.payload, as: UTF8.self)
            == "wasm function 'wasmdemo.spin': ran out of fuel (wasm_fuel 2000000) while running export 'invoke'")
        #expect(overGRPC.trap.status == .systemError)
        #expect(String(decoding: overGRPC.trap.payload, as: UTF8.self)
            == "wasm function 'wasmdemo.trap': trapped while running export 'invoke': unreachable")

        // The CLI: output on stdout and exit 0 on success; a trap exits 5 (SYSTEM_ERROR) naming it on stderr.
        let gateway = ["-g", "http://127.0.0.1:\(gatewayPort)"]
        let payload = (dir as NSString).appendingPathComponent("payload")
        try Data("from the cli".utf8).write(to: URL(fileURLWithPath: payload))
        let echoed = try await cli(["invoke", "-c", cls, "1", "echo", "-p", payload] + gateway, environment: env)
        #expect(echoed.code == 0 && echoed.out == "from the cli\n", "\(echoed)")
        try Data("4".utf8).write(to: URL(fileURLWithPath: payload))
        let counted = try await cli(["invoke", "-c", cls, "0", "incr", "-o", "7", "-p", payload] + gateway, environment: env)
        #expect(counted.code == 0 && counted.out == "20\n", "\(counted)")
        let trapped = try await cli(["invoke", "-c", cls, "0", "trap"] + gateway, environment: env)
        #expect(trapped.code == 5 && trapped.out.isEmpty, "\(trapped)")
        #expect(trapped.err.contains("error: SYSTEM_ERROR: wasm function 'wasmdemo.trap': trapped while running export 'invoke': unreachable"),
                "\(trapped)")
        let readBack = try await cli(["object", "get", "--cls-id", cls, "0", "7", "--key", "0"] + gateway, environment: env)
        #expect(readBack.code == 0 && readBack.out == "20", "\(readBack)")
    }
}
