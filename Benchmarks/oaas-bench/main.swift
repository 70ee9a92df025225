// Entry point of `oaas-bench` (see BenchCommand.swift); `make bench` runs it against a release `oaas`.
// Parsed and run inside an async function: in top-level code, `BenchCommand.main()` and `run()`
// resolve to ParsableCommand's synchronous overloads, which cannot run this async command.
func runBenchCommand() async {
    do {
        let command = try BenchCommand.parse()
        try await command.run()
    } catch {
        BenchCommand.exit(withError: error)
    }
}

await runBenchCommand()
