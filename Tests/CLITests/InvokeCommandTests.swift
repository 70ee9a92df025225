import Foundation
import OaaSProto
import Testing
@testable import OaaSCLI

@Suite("oaas invoke against a loopback gateway")
struct InvokeCommandTests {
    @Test("stateless invoke sends cls, partition, fn, file payload and options; prints the payload")
    func statelessInvoke() async throws {
        try await withFakeInvocationGateway { url, log in
            try await withFiles(["in.json": #"{"n":1}"#]) { dir in
                let file = dir.appendingPathComponent("in.json").path
                let run = await oaasInvocation(["invoke", "-c", "users", "3", "echo", "-p", file,
                                                "--opt", "a=1", "--opt", "b=x=y"], gateway: url)
                #expect(run.code == 0, "\(run)")
                #expect(run.out == "{\"n\":1}\n")
                #expect(run.err.isEmpty)
            }
            let state = log.snapshot
            #expect(state.objCalls.isEmpty)
            let call = try #require(state.fnCalls.first)
            #expect(call.clsID == "users")
            #expect(call.partitionID == 3)
            #expect(call.fnID == "echo")
            #expect(call.payload == Data(#"{"n":1}"#.utf8))
            #expect(call.options == ["a": "1", "b": "x=y"], "K=V splits at the first '='")
        }
    }

    @Test("-o is the numeric object id on invoke; -p - reads stdin")
    func numericObjectInvoke() async throws {
        try await withFakeInvocationGateway { url, log in
            let run = await oaasInvocation(["i", "-c", "users", "0", "echo", "-o", "42", "-p", "-"],
                                           gateway: url, stdin: Data("from stdin".utf8))
            #expect(run.code == 0, "\(run)")
            #expect(run.out == "from stdin\n")
            let state = log.snapshot
            #expect(state.fnCalls.isEmpty)
            let call = try #require(state.objCalls.first)
            #expect(call.objectID == 42)
            #expect(!call.hasObjectIDStr)
            #expect(call.clsID == "users")
            #expect(call.fnID == "echo")
            #expect(call.payload == Data("from stdin".utf8))
        }
    }

    @Test("--object-id-str sends the string id as given and no numeric id")
    func stringObjectInvoke() async throws {
        try await withFakeInvocationGateway { url, log in
            let run = await oaasInvocation(["ivk", "-c", "users", "2", "echo", "--object-id-str", "User-7"], gateway: url)
            #expect(run.code == 0, "\(run)")
            #expect(run.out == "\n", "an empty payload prints an empty line")
            let call = try #require(log.snapshot.objCalls.first)
            #expect(call.objectIDStr == "User-7")
            #expect(call.objectID == 0)
            #expect(call.partitionID == 2)
            #expect(call.payload.isEmpty)
        }
    }

    @Test("function statuses map to exit codes; the payload goes to stderr", arguments: [
        ("invalid", Int32(3), "error: INVALID_REQUEST: bad input\n"),
        ("fail", Int32(4), "error: APP_ERROR: boom\n"),
        ("crash", Int32(5), "error: SYSTEM_ERROR: the function returned SYSTEM_ERROR without a payload\n"),
    ])
    func statusExitCodes(fn: String, code: Int32, stderr: String) async throws {
        try await withFakeInvocationGateway { url, _ in
            let run = await oaasInvocation(["invoke", "-c", "c", "0", fn], gateway: url)
            #expect(run.code == code, "\(run)")
            #expect(run.out.isEmpty)
            #expect(run.err == stderr)
        }
    }

    @Test("--print-all prints status, headers and invocation id above the payload")
    func printAll() async throws {
        try await withFakeInvocationGateway { url, _ in
            let run = await oaasInvocation(["invoke", "-c", "c", "0", "echo", "-p", "-", "--print-all"],
                                           gateway: url, stdin: Data("hi".utf8))
            #expect(run.code == 0, "\(run)")
            #expect(run.out == """
                status: OKAY
                headers:
                  content-type: text/plain
                  x-trace: t1
                invocation_id: inv-1
                ======= payload =======
                hi

                """)

            let failed = await oaasInvocation(["invoke", "-c", "c", "0", "fail", "--print-all"], gateway: url)
            #expect(failed.code == 4)
            #expect(failed.out.hasPrefix("status: APP_ERROR\nheaders:\n  grpc-status: INTERNAL\ninvocation_id: \n"))
            #expect(failed.out.hasSuffix("======= payload =======\nboom\n"))
        }
    }

    @Test("--output json carries status, headers, invocation_id and payload (base64 when not UTF-8)")
    func jsonOutput() async throws {
        try await withFakeInvocationGateway { url, _ in
            let run = await oaasInvocation(["invoke", "-c", "c", "0", "echo", "-p", "-", "--output", "json"],
                                           gateway: url, stdin: Data("héllo".utf8))
            #expect(run.code == 0, "\(run)")
            let value = try parseJSON(run.out)
            #expect(value["status"]?.stringValue == "OKAY")
            #expect(value["headers"]?["content-type"]?.stringValue == "text/plain")
            #expect(value["invocation_id"]?.stringValue == "inv-1")
            #expect(value["payload"]?.stringValue == "héllo")
            #expect(value["payload_base64"] == nil)

            let binary = await oaasInvocation(["invoke", "-c", "c", "0", "binary", "--output", "json"], gateway: url)
            let raw = try parseJSON(binary.out)
            #expect(raw["payload"] == nil)
            #expect(raw["payload_base64"]?.stringValue == Data([0xFF, 0xFE, 0x41]).base64EncodedString())

            let failed = await oaasInvocation(["invoke", "-c", "c", "0", "fail", "--output", "yaml"], gateway: url)
            #expect(failed.code == 4, "json/yaml keep the status exit code")
            #expect(failed.out.contains("status: APP_ERROR"))
            #expect(failed.out.contains("payload: boom"))
            #expect(failed.err.isEmpty)
        }
    }

    @Test("a non-UTF-8 payload prints lossily in table mode")
    func lossyTable() async throws {
        try await withFakeInvocationGateway { url, _ in
            let run = await oaasInvocation(["invoke", "-c", "c", "0", "binary"], gateway: url)
            #expect(run.code == 0)
            #expect(run.out == "\u{FFFD}\u{FFFD}A\n")
        }
    }

    @Test("gRPC errors exit 1 with the code name; --timeout-ms sets the deadline")
    func grpcErrors() async throws {
        try await withFakeInvocationGateway { url, _ in
            let missing = await oaasInvocation(["invoke", "-c", "users", "0", "nope"], gateway: url)
            #expect(missing.code == 1)
            #expect(missing.err == "error: NOT_FOUND: function 'nope' not found in class 'users'\n")
            #expect(missing.out.isEmpty)

            let started = ContinuousClock.now
            let slow = await oaasInvocation(["invoke", "-c", "c", "0", "slow", "--timeout-ms", "100"], gateway: url)
            #expect(slow.code == 1, "\(slow)")
            #expect(slow.err.hasPrefix("error: DEADLINE_EXCEEDED: "))
            #expect(ContinuousClock.now - started < .seconds(15))  // the deadline fired, not the 30 s of the slow side
        }
    }

    @Test("--async-mode submits and prints the invocation id")
    func asyncSubmit() async throws {
        try await withFakeInvocationGateway { url, log in
            let generated = await oaasInvocation(["invoke", "-c", "users", "1", "echo", "--async-mode", "-p", "-", "--opt", "k=v"],
                                                 gateway: url, stdin: Data("later".utf8))
            #expect(generated.code == 0, "\(generated)")
            #expect(generated.out == "Invocation ID: gen-1\n")

            let chosen = await oaasInvocation(["invoke", "-c", "users", "1", "echo", "--async-mode", "--invocation-id", "my-id_1",
                                               "--object-id-str", "u-1", "--output", "json"], gateway: url)
            #expect(chosen.code == 0, "\(chosen)")
            let value = try parseJSON(chosen.out)
            #expect(value["invocation_id"]?.stringValue == "my-id_1")
            #expect(value["state"]?.stringValue == "PENDING")

            let submits = log.snapshot.submits
            #expect(submits.count == 2)
            guard case .fn(let fn)? = submits.first?.call else {
                Issue.record("expected a stateless Submit")
                return
            }
            #expect(fn.clsID == "users" && fn.partitionID == 1 && fn.fnID == "echo")
            #expect(fn.payload == Data("later".utf8))
            #expect(fn.options == ["k": "v"])
            #expect(submits.first?.hasInvocationID == false)
            guard case .obj(let obj)? = submits.last?.call else {
                Issue.record("expected an object Submit")
                return
            }
            #expect(obj.objectIDStr == "u-1")
            #expect(submits.last?.invocationID == "my-id_1")
            #expect(log.snapshot.fnCalls.isEmpty && log.snapshot.objCalls.isEmpty, "async mode never calls sync")
        }
    }

    @Test("usage errors exit 2 and send nothing", arguments: [
        ["invoke", "-c", "c", "0", "echo", "-o", "1", "--object-id-str", "a"],
        ["invoke", "-c", "c", "0", "echo", "--opt", "novalue"],
        ["invoke", "-c", "c", "0", "echo", "--opt", "=v"],
        ["invoke", "-c", "c", "-1", "echo"],
        ["invoke", "-c", "c", "4294967296", "echo"],
        ["invoke", "-c", "c", "x", "echo"],
        ["invoke", "-c", "c", "0", "echo", "--invocation-id", "abc"],
        ["invoke", "-c", "c", "0", "echo", "--async-mode", "--invocation-id", "bad id"],
        ["invoke", "-c", "c", "0", "echo", "--async-mode", "--print-all"],
        ["invoke", "-c", "c", "0", "echo", "-o", "0"],
        ["invoke", "-c", "c", "0", "echo", "--timeout-ms", "0"],
        ["invoke", "-c", "c", "0", "echo", "--output", "xml"],
        ["invoke", "-c", "c", "0"],
        ["invoke", "0", "echo"],
        ["result", "-c", "c", "0", "echo", "id", "-o", "1", "--object-id-str", "a"],
        ["result", "-c", "c", "0", "echo", "no/slash"],
        ["result", "-c", "c", "0", "echo"],
    ])
    func usageErrors(arguments: [String]) async throws {
        try await withFakeInvocationGateway { url, log in
            let run = await oaasInvocation(arguments, gateway: url)
            #expect(run.code == 2, "\(run)")
            #expect(run.out.isEmpty)
            #expect(!run.err.isEmpty)
            #expect(log.untouched)
        }
    }

    @Test("a missing payload file exits 1 naming it, and nothing is sent")
    func missingPayloadFile() async throws {
        try await withFakeInvocationGateway { url, log in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).bin").path
            let run = await oaasInvocation(["invoke", "-c", "c", "0", "echo", "-p", path], gateway: url)
            #expect(run.code == 1)
            #expect(run.err == "error: NOT_FOUND: payload file '\(path)' not found\n")
            #expect(log.untouched)
        }
    }

    @Test("an unreachable gateway is UNAVAILABLE, exit 1")
    func unreachable() async {
        let run = await oaasInvocation(["invoke", "-c", "c", "0", "echo"], gateway: "http://127.0.0.1:1")
        #expect(run.code == 1)
        #expect(run.err.hasPrefix("error: UNAVAILABLE: cannot reach the gateway at http://127.0.0.1:1"))
    }
}

@Suite("oaas result against a loopback gateway")
struct ResultCommandTests {
    @Test("pending prints the not-yet line and exits 0; the request locates the call")
    func pending() async throws {
        try await withFakeInvocationGateway { url, log in
            log.script("p-1", [Scripted.state(.pending)])
            let run = await oaasInvocation(["result", "-c", "users", "4", "echo", "p-1", "-o", "9"], gateway: url)
            #expect(run.code == 0, "\(run)")
            #expect(run.out == "Result not yet available for invocation: p-1\n")
            let query = try #require(log.snapshot.resultQueries.first)
            #expect(query.clsID == "users")
            #expect(query.partitionID == 4)
            #expect(query.fnID == "echo")
            #expect(query.invocationID == "p-1")
            #expect(query.objectID == 9)
            #expect(!query.hasObjectIDStr)

            let json = await oaasInvocation(["res", "-c", "users", "4", "echo", "p-1", "--output", "json"], gateway: url)
            #expect(try parseJSON(json.out)["state"]?.stringValue == "PENDING")
        }
    }

    @Test("DONE prints like invoke, with the status exit code")
    func done() async throws {
        try await withFakeInvocationGateway { url, log in
            log.script("d-1", [Scripted.done(Scripted.response(Data("hello".utf8), invocationID: "d-1"))])
            log.script("d-2", [Scripted.done(Scripted.response(Data("nope".utf8), status: .appError))])
            let run = await oaasInvocation(["r", "-c", "c", "0", "echo", "d-1", "--object-id-str", "o-1"], gateway: url)
            #expect(run.code == 0, "\(run)")
            #expect(run.out == "hello\n")
            #expect(log.snapshot.resultQueries.first?.objectIDStr == "o-1")

            let all = await oaasInvocation(["result", "-c", "c", "0", "echo", "d-1", "--print-all"], gateway: url)
            #expect(all.out.hasPrefix("status: OKAY\nheaders: {}\ninvocation_id: d-1\n======= payload =======\nhello\n"))

            let failed = await oaasInvocation(["result", "-c", "c", "0", "echo", "d-2"], gateway: url)
            #expect(failed.code == 4)
            #expect(failed.err == "error: APP_ERROR: nope\n")
        }
    }

    @Test("--watch polls until DONE")
    func watchUntilDone() async throws {
        try await withFakeInvocationGateway { url, log in
            log.script("w-1", [Scripted.state(.pending), Scripted.state(.running),
                               Scripted.done(Scripted.response(Data("finally".utf8)))])
            let run = await oaasInvocation(["result", "-c", "c", "0", "echo", "w-1", "-w"], gateway: url)
            #expect(run.code == 0, "\(run)")
            #expect(run.out == "finally\n")
            #expect(log.snapshot.resultQueries.count == 3)
        }
    }

    @Test("--watch gives up after --timeout-ms with exit 6")
    func watchTimeout() async throws {
        try await withFakeInvocationGateway { url, log in
            log.script("t-1", [Scripted.state(.running)])
            let started = ContinuousClock.now
            let run = await oaasInvocation(["result", "-c", "c", "0", "echo", "t-1", "--watch", "--timeout-ms", "150"], gateway: url)
            #expect(run.code == 6, "\(run)")
            #expect(run.out.isEmpty)
            #expect(run.err.hasPrefix("error: DEADLINE_EXCEEDED: invocation 't-1' not done after 150 ms (still RUNNING)\n"))
            #expect(!log.snapshot.resultQueries.isEmpty, "how many polls fit depends on the machine's load")
            #expect(ContinuousClock.now - started < .seconds(25))
        }
    }

    @Test("an unknown invocation exits 1 with NOT_FOUND")
    func unknown() async throws {
        try await withFakeInvocationGateway { url, _ in
            let run = await oaasInvocation(["result", "-c", "c", "0", "echo", "ghost"], gateway: url)
            #expect(run.code == 1)
            #expect(run.err.hasPrefix("error: NOT_FOUND: invocation 'ghost' not found\nhint: "))
        }
    }

    @Test("invoke --async-mode, then result --watch prints the async payload")
    func submitThenWatch() async throws {
        try await withFakeInvocationGateway { url, _ in
            let submitted = await oaasInvocation(["invoke", "-c", "c", "2", "echo", "-o", "5", "--async-mode", "-p", "-"],
                                                 gateway: url, stdin: Data("async body".utf8))
            let id = try #require(submitted.out.split(separator: " ").last.map { $0.trimmingCharacters(in: .newlines) })
            let run = await oaasInvocation(["result", "-c", "c", "2", "echo", id, "-o", "5", "--watch"], gateway: url)
            #expect(run.code == 0, "\(run)")
            #expect(run.out == "async body\n")
        }
    }

    @Test("a bad OAAS_WAIT_INTERVAL_MS is a usage error")
    func badInterval() async throws {
        try await withFakeInvocationGateway { url, log in
            let run = await oaasInvocation(["result", "-c", "c", "0", "echo", "x", "-w"], gateway: url,
                                           environment: ["OAAS_WAIT_INTERVAL_MS": "soon"])
            #expect(run.code == 2)
            #expect(run.err.contains("OAAS_WAIT_INTERVAL_MS"))
            #expect(log.untouched)
        }
    }
}

@Suite("Invocation rendering")
struct InvocationRenderTests {
    @Test("status exit codes, including a status from a newer peer")
    func exitCodes() {
        #expect(InvocationRender.exitCode(for: .okay) == 0)
        #expect(InvocationRender.exitCode(for: .invalidRequest) == 3)
        #expect(InvocationRender.exitCode(for: .appError) == 4)
        #expect(InvocationRender.exitCode(for: .systemError) == 5)
        #expect(InvocationRender.exitCode(for: .UNRECOGNIZED(9)) == 5)
        #expect(InvocationRender.name(of: Oprc_ResponseStatus.UNRECOGNIZED(9)) == "STATUS_9")
    }

    @Test("table output of a failure with a trailing newline keeps one line")
    func trailingNewline() throws {
        let outcome = try InvocationRender.response(Scripted.response(Data("oops\n".utf8), status: .invalidRequest),
                                                    printAll: false, format: .table)
        #expect(outcome == InvocationRender.Outcome(stdout: "", stderr: "error: INVALID_REQUEST: oops\n", exitCode: 3))
    }
}
