// Entry point of `oaas-bench` (see BenchCommand.swift); `make bench` runs it against a release `oaas`.
// Parsed and run by hand: in top-level code `BenchCommand.main()` resolves to the synchronous
// ParsableCommand overload, which cannot run an async command.
do {
    var command = try BenchCommand.parse()
    try await command.run()
} catch {
    BenchCommand.exit(withError: error)
}
