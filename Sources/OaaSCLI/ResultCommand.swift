import ArgumentParser
import Foundation
import GRPCCore
import OaaSCore
import OaaSProto

/// `oaas result` (spec §12.2): GetResult of an async invocation, once or polling with `--watch`.
struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result",
        abstract: "Fetch the result of an async invocation ('oaas invoke --async-mode').",
        discussion: """
            A finished call prints like 'oaas invoke' (exit 3/4/5 by status). An unfinished one prints \
            'Result not yet available …' (exit 0); --watch polls until it finishes or --timeout-ms passes (exit 6).
            """,
        aliases: ["res", "r"])

    /// `--watch` polls this often unless `OAAS_WAIT_INTERVAL_MS` says otherwise.
    static let pollInterval: Duration = .milliseconds(500)
    /// The shortest deadline a single GetResult gets, however little of the watch is left.
    static let minimumCallTimeout: Duration = .seconds(5)

    @OptionGroup var global: InvocationGlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id (u32) the call was submitted to.") var partition: UInt32
    @Argument(help: ArgumentHelp("Function id.", valueName: "fn-id")) var fnID: String
    @Argument(help: ArgumentHelp("Invocation id printed by 'oaas invoke --async-mode'.", valueName: "invocation-id"))
    var invocationID: String
    @OptionGroup var target: InvocationTargetOptions
    @Flag(name: [.customShort("w"), .customLong("watch")], help: "Poll until the result is available.")
    var watch = false
    @Option(name: .customLong("timeout-ms"), help: ArgumentHelp("How long --watch waits, in milliseconds.", valueName: "N"))
    var timeoutMS: UInt64 = 60_000
    @Flag(name: .customLong("print-all"), help: "Print status, headers and invocation id above the payload.")
    var printAll = false

    func validate() throws {
        try InvocationArguments.checkFunctionID(fnID)
        try InvocationArguments.checkInvocationID(invocationID, argument: "<invocation-id>")
        _ = try InvocationArguments.timeout(milliseconds: timeoutMS)
    }

    /// Polls (with `--watch`) until DONE and returns what to print. `interval` is the pause between polls.
    func execute(client: any InvocationClient, cls: String, interval: Duration) async throws -> InvocationRender.Outcome {
        let request = InvocationRequests.getResult(cls: cls, partition: partition, fn: fnID, invocationID: invocationID,
                                                   id: try target.target())
        let timeout = try InvocationArguments.timeout(milliseconds: timeoutMS)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var lastState: Oaas_Invocation_AsyncState?
        while true {
            let response = try await fetch(request, client: client, deadline: deadline, lastState: lastState)
            lastState = response.state
            if response.state == .done {
                return try InvocationRender.response(response.response, printAll: printAll, format: global.format)
            }
            guard watch else {
                let text = try InvocationRender.pending(invocationID: invocationID, state: response.state, format: global.format)
                return InvocationRender.Outcome(stdout: text, stderr: "", exitCode: 0)
            }
            let now = ContinuousClock.now
            guard now < deadline else { throw timedOut(response.state) }
            try await Task.sleep(for: min(interval, deadline - now))
        }
    }

    /// One GetResult, bounded by the time left but given at least ``minimumCallTimeout``: a slow
    /// connection still gets a real answer (and a state to report), at the cost of overrunning the
    /// watch by that much. A call cut short after the watch deadline is a timeout (exit 6).
    private func fetch(_ request: Oaas_Invocation_GetResultRequest, client: any InvocationClient,
                       deadline: ContinuousClock.Instant,
                       lastState: Oaas_Invocation_AsyncState?) async throws -> Oaas_Invocation_GetResultResponse {
        let left = deadline - ContinuousClock.now
        let callTimeout = max(Self.minimumCallTimeout, min(GatewayConnection.callTimeout, left))
        do {
            return try await client.getResult(request, timeout: callTimeout)
        } catch let error as RPCError where error.code == .deadlineExceeded && watch && ContinuousClock.now >= deadline {
            throw timedOut(lastState)
        } catch let error as RPCError where error.code == .notFound {
            throw CLIFailure(code: "NOT_FOUND", message: error.message,
                             hint: "give the class, partition, function and object the call was submitted with; results expire ODGM_ASYNC_RESULT_TTL_SECS (default 3600) after they finish")
        }
    }

    private func timedOut(_ state: Oaas_Invocation_AsyncState?) -> CLIFailure {
        let detail = state.map { " (still \(InvocationRender.name(of: $0)))" } ?? ""
        return CLIFailure(code: "DEADLINE_EXCEEDED",
                          message: "invocation '\(invocationID)' not done after \(timeoutMS) ms\(detail)",
                          hint: "raise --timeout-ms, or check later with 'oaas result'", exitCode: 6)
    }

    /// Resolves class and gateway, fetches, prints; returns the exit code (spec §12.1: 0, 1 errors
    /// and unknown ids, 2 usage found at run time, 3–5 by function status, 6 a `--watch` timeout).
    func run(io: InvocationIO) async -> Int32 {
        do {
            let setup = try io.setup(global, cls)
            let interval = try Self.interval(io.environment)
            let outcome = try await GatewayConnection.withInvocations(setup.endpoint) { client in
                try await execute(client: client, cls: setup.cls, interval: interval)
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

    /// ``pollInterval``, or `OAAS_WAIT_INTERVAL_MS` as the deploy waiter reads it (tests make it short).
    static func interval(_ environment: [String: String]) throws -> Duration {
        guard let raw = environment[WaitInterval.environmentKey], !raw.isEmpty else { return pollInterval }
        return try WaitInterval.resolve(environment)
    }
}
