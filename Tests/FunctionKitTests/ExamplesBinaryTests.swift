import Foundation
import FunctionKit
import GRPCCore
import OaaSProto
import Testing

/// The `oaas-functions` binary, end to end over loopback with a fake ODGM behind it.
@Suite struct ExamplesBinaryTests {
    @Test func servesEveryExampleAndStopsOnSIGTERM() async throws {
        try await withFakeODGM { odgm, address in
            let process = try ExamplesProcess(["--port", "0", "--host", "127.0.0.1", "--odgm", address.description])
            let port = try await process.listeningPort()
            try await withFunctionClient(port: port) { client in
                // echo: verbatim, with the request's content-type; on both RPCs.
                let echo = try await client.invokeFn(fnRequest(fn: "echo", payload: "{\"a\":1}", options: ["content-type": "application/json"]))
                #expect(echo.status == .okay && echo.text == "{\"a\":1}" && echo.headers["content-type"] == "application/json")
                #expect(try await client.invokeObj(objRequest(fn: "echo", id: 3, payload: "x")).text == "x")

                // count: 1 then 2 on one object, 1 on another; state lands on the invoked object.
                for expected in [1, 2] {
                    let count = try await client.invokeObj(objRequest(cls: "c", fn: "count", partition: 1, id: "a"),
                                                           metadata: invocationMetadata(depth: 2))
                    #expect(count.status == .okay, "\(count.text)")
                    #expect(try count.json([String: Int].self) == ["count": expected])
                }
                #expect(try await client.invokeObj(objRequest(cls: "c", fn: "count", partition: 1, id: 7)).text == #"{"count":1}"#)

                // random: N string keys in one batch; a bad N is INVALID_REQUEST.
                struct Written: Decodable { var keys: [String]; var version: UInt64 }
                let random = try await client.invokeObj(objRequest(cls: "r", fn: "random", id: 1, payload: #"{"entries":3}"#))
                let written = try random.json(Written.self)
                #expect(written.keys.count == 3 && Set(written.keys).count == 3 && written.version == 1)
                let defaulted = try await client.invokeObj(objRequest(cls: "r", fn: "random", id: 2)).json(Written.self)
                #expect(defaulted.keys.count == 10)
                #expect(try await client.invokeObj(objRequest(cls: "r", fn: "random", id: 1, payload: #"{"entries":0}"#)).status == .invalidRequest)
                let stored = try #require(await odgm.object("r/0/n:1"))
                #expect(Set(stored.data.entriesStr.keys) == Set(written.keys))

                // fail: each named status, stateless and as an object method.
                for (name, status) in [("ok", Oprc_ResponseStatus.okay), ("invalid", .invalidRequest), ("app", .appError), ("system", .systemError)] {
                    #expect(try await client.invokeFn(fnRequest(fn: "fail", payload: name)).status == status, "\(name)")
                    #expect(try await client.invokeObj(objRequest(fn: "fail", id: 1, payload: name)).status == status, "\(name)")
                }

                // sleep: answers after the wait, or DEADLINE_EXCEEDED when the deadline is shorter.
                let slept = try await client.invokeFn(fnRequest(fn: "sleep", payload: "20"))
                #expect(slept.text == #"{"slept_ms":20}"#)
                #expect(try await client.invokeFn(fnRequest(fn: "sleep", payload: #"{"ms":5}"#)).status == .okay)
                let error = await #expect(throws: RPCError.self) {
                    try await client.invokeFn(fnRequest(fn: "sleep", payload: "5000"), options: callOptions(timeout: .milliseconds(100)))
                }
                #expect(error?.code == .deadlineExceeded)
            }
            let calls = await odgm.calls.filter { $0.object == "c/1/s:a" }
            #expect(!calls.isEmpty && calls.allSatisfy { $0.triggerDepth == "2" && $0.traceparent == sampleTraceparent })

            process.terminate()
            #expect(try await process.waitForExit() == 0)
        }
    }

    @Test func servesOnlyTheSelectedFunctions() async throws {
        let process = try ExamplesProcess(["--port", "0", "--host", "127.0.0.1"], environment: ["OAAS_FUNCTIONS": "echo"])
        let port = try await process.listeningPort()
        try await withFunctionClient(port: port) { client in
            #expect(try await client.invokeFn(fnRequest(fn: "echo", payload: "hi")).text == "hi")
            let sleep = try await client.invokeFn(fnRequest(fn: "sleep", payload: "1"))
            #expect(sleep.status == .invalidRequest)
            #expect(sleep.text.contains("serves 'echo'"))
        }
        process.terminate()
        #expect(try await process.waitForExit() == 0)
    }

    @Test func badSettingsExitWithCode2NamingEachOne() async throws {
        let process = try ExamplesProcess(["--functions", "echo,nope"], environment: ["HTTP_PORT": "x", "ODGM_SERVICE": "odgm"])
        #expect(try await process.waitForExit() == 2)
        let log = process.log
        #expect(log.contains("HTTP_PORT: 'x'"))
        #expect(log.contains("ODGM_SERVICE: 'odgm'"))
        #expect(log.contains("--functions: unknown function 'nope'"))
    }
}
