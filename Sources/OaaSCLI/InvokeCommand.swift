import ArgumentParser
import Foundation
import OaaSCore
import OaaSProto

/// `oaas invoke` (spec §12.2): InvokeFn, or InvokeObj with an object id; Submit with `--async-mode`.
struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke a function through the gateway (stateless, or a method with -o/--object-id-str).",
        discussion: """
            Prints the payload; exit 3/4/5 for INVALID_REQUEST/APP_ERROR/SYSTEM_ERROR. With --async-mode \
            the call is submitted and its id printed; fetch the result with 'oaas result'.
            """,
        aliases: ["ivk", "i"])

    /// Without `--timeout-ms` the gateway's own default deadline applies (30 s); ours only guards
    /// against a gateway that never answers, so it is the gateway's cap on client deadlines.
    static let defaultTimeout: Duration = .seconds(300)

    @OptionGroup var global: InvocationGlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id (u32) that executes the call.") var partition: UInt32
    @Argument(help: ArgumentHelp("Function id.", valueName: "fn-id")) var fnID: String
    @OptionGroup var target: InvocationTargetOptions
    @Option(name: [.customShort("p"), .customLong("payload")],
            help: ArgumentHelp("Payload file, or - to read stdin (default: empty).", valueName: "FILE"))
    var payload: String?
    @Option(name: .customLong("opt"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Invocation option K=V; repeatable.", valueName: "K=V"),
            transform: { try KeyValue.parse($0, option: "--opt") })
    var options: [KeyValue] = []
    @Option(name: .customLong("timeout-ms"), help: ArgumentHelp("Call deadline in milliseconds.", valueName: "N"))
    var timeoutMS: UInt64?
    @Flag(name: .customLong("print-all"), help: "Print status, headers and invocation id above the payload.")
    var printAll = false
    @Flag(name: .customLong("async-mode"), help: "Submit the call asynchronously and print its invocation id.")
    var asyncMode = false
    @Option(name: .customLong("invocation-id"),
            help: ArgumentHelp("Id for an --async-mode call ([A-Za-z0-9_-]{1,64}); resubmitting it does not re-run.", valueName: "ID"))
    var invocationID: String?

    func validate() throws {
        try InvocationArguments.checkFunctionID(fnID)
        if let timeoutMS { _ = try InvocationArguments.timeout(milliseconds: timeoutMS) }
        if let invocationID {
            // Only Submit carries a client-chosen id; a sync call would silently ignore it.
            guard asyncMode else { throw ValidationError("--invocation-id needs --async-mode") }
            try InvocationArguments.checkInvocationID(invocationID, argument: "--invocation-id")
        }
        if asyncMode, printAll {
            throw ValidationError("--print-all applies to results; with --async-mode use it on 'oaas result'")
        }
    }

    private var timeout: Duration {
        get throws {
            guard let timeoutMS else { return asyncMode ? GatewayConnection.callTimeout : Self.defaultTimeout }
            return try InvocationArguments.timeout(milliseconds: timeoutMS)
        }
    }

    /// Runs the call and returns what to print; the caller writes it.
    func execute(client: any InvocationClient, cls: String, payload body: Data) async throws -> InvocationRender.Outcome {
        let format = global.format
        let object = try target.target()
        let timeout = try timeout
        let fnRequest = InvocationRequests.fn(cls: cls, partition: partition, fn: fnID, payload: body, options: options)
        if asyncMode {
            var submit = Oaas_Invocation_SubmitRequest()
            if let object {
                submit.obj = InvocationRequests.object(cls: cls, partition: partition, id: object, fn: fnID,
                                                       payload: body, options: options)
            } else {
                submit.fn = fnRequest
            }
            if let invocationID { submit.invocationID = invocationID }
            let response = try await client.submit(submit, timeout: timeout)
            return InvocationRender.Outcome(stdout: try InvocationRender.submitted(response, format: format), stderr: "", exitCode: 0)
        }
        let response: Oprc_InvocationResponse
        if let object {
            let request = InvocationRequests.object(cls: cls, partition: partition, id: object, fn: fnID,
                                                    payload: body, options: options)
            response = try await client.invokeObj(request, timeout: timeout)
        } else {
            response = try await client.invokeFn(fnRequest, timeout: timeout)
        }
        return try InvocationRender.response(response, printAll: printAll, format: format)
    }

    /// Resolves class and gateway, reads the payload, calls, prints; returns the exit code
    /// (spec §12.1: 0, 1 errors, 2 usage found at run time, 3–5 by function status).
    func run(io: InvocationIO) async -> Int32 {
        do {
            let setup = try io.setup(global, cls)
            let body = try PayloadSource(payload).read(stdin: io.stdin)
            let outcome = try await GatewayConnection.withInvocations(setup.endpoint) { client in
                try await execute(client: client, cls: setup.cls, payload: body)
            }
            return outcome.write(to: io.output)
        } catch {
            return Terminal.report(error, writeError: io.output.err).rawValue
        }
    }

    func run() async throws {
        let code = await run(io: .process)
        if code != 0 { throw ExitCode(code) }
    }
}

extension InvocationRender.Outcome {
    /// Writes the output and returns the exit code.
    func write(to output: any CommandOutput) -> Int32 {
        if !stdout.isEmpty { output.out(stdout) }
        if !stderr.isEmpty { output.err(stderr) }
        return exitCode
    }
}
