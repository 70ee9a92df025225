// Entry point of `oaas-bench` (see BenchCommand.swift); `make bench` runs it against a release `oaas`.
await BenchCommand.main()
