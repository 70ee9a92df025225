import Foundation
import GRPCCore
import OaaSProto
import Testing

/// Invocation through the public interfaces: `oaas dev` deploys the demo package, the example runtime
/// (`oaas-functions`, built on FunctionKit) serves its functions, and clients call them over REST, gRPC and the CLI.
@Suite(.serialized) struct InvocationDevTests {
    static let cls = "demo.Record"
    static let functions = ["demo.echo", "demo.count", "demo.random", "demo.fail", "demo.sleep"]

    @Test func demoFunctionsRunOverRESTgRPCAndTheCLI() async throws {
        let pmPort = freePort()
        let gatewayPort = freePort()
        let runtimePort = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The runtime reads and writes state through the gateway, as `oaas dev` tells runtimes to (ODGM_SERVICE).
        let runtime = try await OaasProcess(
            ["--port", String(runtimePort), "--host", "127.0.0.1", "--odgm", "127.0.0.1:\(gatewayPort)"],
            port: runtimePort, waitReady: false, executable: functionsBinary)
        #expect(try await eventually { runtime.log.contains("listening on") }, "\(runtime.log)")
        let url = "http://127.0.0.1:\(runtimePort)"
        let example = repositoryRoot.appendingPathComponent("config/examples/demo.yaml").path
        let dev = try await OaasProcess(
            ["dev", "--port", String(pmPort), "--gateway-port", String(gatewayPort), "--data-dir", dir, "-c", example]
                + Self.functions.flatMap { ["--function-url", "\($0)=\(url)"] },
            port: gatewayPort)
        let env = ["OAAS_CONFIG_PATH": (dir as NSString).appendingPathComponent("config.yml"), "OAAS_WAIT_INTERVAL_MS": "100"]
        let pm = ["--pm", "http://127.0.0.1:\(pmPort)"]
        let g = ["-g", "http://127.0.0.1:\(gatewayPort)"]
        let status = try await cli(["deploy", "status", "demo-record", "--wait", "--timeout", "30s"] + pm, environment: env)
        #expect(status.code == 0, "\(status)\n\(dev.log)")

        // REST, stateless on partition 1: the payload comes back verbatim with the request's media type.
        let (code, headers, body) = try await dev.http(
            "POST", "/api/class/\(Self.cls)/1/invokes/echo", body: Data("hello".utf8), headers: ["Content-Type": "text/plain"])
        #expect(code == 200, "\(String(decoding: body, as: UTF8.self))\n\(dev.log)")
        #expect(String(decoding: body, as: UTF8.self) == "hello")
        #expect(header(headers, "x-oprc-status") == "OKAY")
        #expect(header(headers, "content-type")?.hasPrefix("text/plain") == true, "\(headers)")
        #expect(header(headers, "x-oprc-invocation-id")?.isEmpty == false, "\(headers)")

        // REST, a stateful method: it changes the object, and the change is read back through the data API.
        for expected in 1...2 {
            let (code, _, body) = try await dev.http("POST", "/api/class/\(Self.cls)/0/objects-str/c1/invokes/count")
            #expect(code == 200, "\(String(decoding: body, as: UTF8.self))")
            #expect(try count(body) == expected)
        }
        let read = try await cli(["object", "getstr", "--cls-id", Self.cls, "0", "--object-id-str", "c1", "--key-str", "count"] + g,
                                 environment: env)
        #expect(read.code == 0 && read.out == "2", "\(read)")

        // The random-entries writer stores the entries it reports.
        let (randomCode, _, _) = try await dev.http(
            "POST", "/api/class/\(Self.cls)/2/objects-str/r1/invokes/random", body: Data(#"{"entries":3}"#.utf8))
        #expect(randomCode == 200)
        let (listCode, _, listBody) = try await dev.http(
            "GET", "/api/class/\(Self.cls)/2/objects-str/r1/entries", headers: ["Accept": "application/json"])
        #expect(listCode == 200)
        let listed = try JSONSerialization.jsonObject(with: listBody) as? [String: Any]
        #expect((listed?["entries"] as? [Any])?.count == 3, "\(String(decoding: listBody, as: UTF8.self))")

        // A function error is never a 200: each ResponseStatus has its HTTP code.
        for (payload, expected, name) in [("invalid", 400, "INVALID_REQUEST"), ("app", 422, "APP_ERROR"), ("system", 502, "SYSTEM_ERROR")] {
            let (code, headers, _) = try await dev.http("POST", "/api/class/\(Self.cls)/0/invokes/fail", body: Data(payload.utf8))
            #expect(code == expected, "\(payload)")
            #expect(header(headers, "x-oprc-status") == name)
        }
        // A runtime slower than the caller's deadline: 504, not a 502.
        let (slow, _, _) = try await dev.http(
            "POST", "/api/class/\(Self.cls)/0/invokes/sleep", body: Data("3000".utf8), headers: ["x-oprc-timeout-ms": "300"])
        #expect(slow == 504)
        // Unknown function and class name the missing part.
        let (noFunction, _, noFunctionBody) = try await dev.http("POST", "/api/class/\(Self.cls)/0/invokes/nope")
        #expect(noFunction == 404 && String(decoding: noFunctionBody, as: UTF8.self).contains("NO_FUNCTION"))
        let (noClass, _, noClassBody) = try await dev.http("POST", "/api/class/nothing.Here/0/invokes/echo")
        #expect(noClass == 404 && String(decoding: noClassBody, as: UTF8.self).contains("NO_CLASS"))

        // gRPC ingress on the same port: InvokeObj continues the same counter.
        let response = try await dev.withClient { client in
            var request = Oprc_ObjectInvocationRequest()
            request.clsID = Self.cls
            request.partitionID = 0
            request.objectIDStr = "c1"
            request.fnID = "count"
            return try await Oprc_OprcFunction.Client(wrapping: client).invokeObj(request)
        }
        #expect(response.status == .okay)
        #expect(try count(response.payload) == 3)

        // The CLI: sync (exit code by status) and async with its durable result.
        let payload = (dir as NSString).appendingPathComponent("payload")
        try Data("from the cli".utf8).write(to: URL(fileURLWithPath: payload))
        let echoed = try await cli(["invoke", "-c", Self.cls, "0", "echo", "-p", payload] + g, environment: env)
        #expect(echoed.code == 0 && echoed.out == "from the cli\n", "\(echoed)")
        try Data("app".utf8).write(to: URL(fileURLWithPath: payload))
        let failed = try await cli(["invoke", "-c", Self.cls, "0", "fail", "-p", payload] + g, environment: env)
        #expect(failed.code == 4, "\(failed)")
        let submitted = try await cli(
            ["invoke", "-c", Self.cls, "0", "count", "--object-id-str", "c1", "--async-mode", "--invocation-id", "inv-1"] + g,
            environment: env)
        #expect(submitted.code == 0 && submitted.out.contains("inv-1"), "\(submitted)")
        let result = try await cli(
            ["result", "-c", Self.cls, "0", "count", "inv-1", "--object-id-str", "c1", "--watch", "--timeout-ms", "20000"] + g,
            environment: env)
        #expect(result.code == 0, "\(result)\n\(dev.log)")
        #expect(try count(Data(result.out.utf8)) == 4, "\(result)")
        let (resultCode, _, resultBody) = try await dev.http("GET", "/api/class/\(Self.cls)/0/objects-str/c1/results/count/async/inv-1")
        #expect(resultCode == 200 && (try? count(resultBody)) == 4)
        let (unknownResult, _, _) = try await dev.http("GET", "/api/class/\(Self.cls)/0/objects-str/c1/results/count/async/inv-2")
        #expect(unknownResult == 404)

        // A trigger chain: object `src` carries a data trigger on its string key `x` that invokes `count` on `dst`.
        // Creating `src` with `x` fires on_create, a REST write of `x` fires on_update: `dst` counts to 2.
        try await dev.withClient { client in
            var target = Oprc_TriggerTarget()
            target.clsID = Self.cls
            target.partitionID = 0
            target.objectIDStr = "dst"
            target.fnID = "count"
            var trigger = Oprc_DataTrigger()
            trigger.onCreate = [target]
            trigger.onUpdate = [target]
            var set = Oprc_SetObjectRequest()
            set.clsID = Self.cls
            set.partitionID = 0
            set.objectIDStr = "src"
            set.object.event.dataTriggerStr["x"] = trigger
            var value = Oprc_ValData()
            value.data = Data("first".utf8)
            set.object.entriesStr["x"] = value
            _ = try await Oprc_DataService.Client(wrapping: client).set(set)
        }
        let (written, _, _) = try await dev.http("PUT", "/api/class/\(Self.cls)/0/objects-str/src/entries-str/x", body: Data("second".utf8))
        #expect(written == 204)
        var counted = ""
        let chained = try await eventually {
            let (code, _, body) = try await dev.http("GET", "/api/class/\(Self.cls)/0/objects-str/dst/entries-str/count")
            counted = String(decoding: body, as: UTF8.self)
            return code == 200 && counted == "2"
        }
        #expect(chained, "dst count = \(counted)\n\(dev.log)")

        // A runtime that is down: an upstream fault (502 SYSTEM_ERROR), and the gateway keeps serving.
        runtime.signal(SIGKILL)
        _ = try await runtime.waitForExit()
        let (down, downHeaders, _) = try await dev.http("POST", "/api/class/\(Self.cls)/0/invokes/echo", body: Data("x".utf8))
        #expect(down == 502)
        #expect(header(downHeaders, "x-oprc-status") == "SYSTEM_ERROR")
        let (health, _, _) = try await dev.http("GET", "/healthz")
        #expect(health == 200)
    }

    private func header(_ headers: [String: String], _ name: String) -> String? {
        headers.first { $0.key.lowercased() == name }?.value
    }

    private func count(_ body: Data) throws -> Int? {
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return object?["count"] as? Int
    }
}
