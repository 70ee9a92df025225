import ArgumentParser
import Foundation

/// `oaas deploy …` (aliases `dep`, `de`; spec §15).
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Apply, watch and delete class deployments.",
        subcommands: [DeployApplyCommand.self, DeployStatusCommand.self, DeployListCommand.self, DeployDeleteCommand.self],
        aliases: ["dep", "de"]
    )
}

/// `--wait`, `--timeout` (and `--watch` on `status`).
struct WaitOptions: ParsableArguments {
    @Flag(name: .customLong("wait"), help: "Wait until RUNNING in every env (exit 1 on DOWN, 6 on timeout).")
    var wait = false
    @Option(name: .customLong("timeout"), help: ArgumentHelp("How long --wait/--watch wait: 300s, 5m, 1500ms or seconds.", valueName: "DURATION"),
            transform: WaitDuration.parse)
    var timeout: WaitDuration = .fiveMinutes
}

struct DeployApplyCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Create (or with --overwrite update) the deployments of a file.", aliases: ["a"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "A deployment, a list of them, a package with deployments[], or several documents ('-' reads stdin).")
    var file: String
    @Option(name: [.customShort("p"), .customLong("override-package")], help: ArgumentHelp("Deploy against this package name.", valueName: "N"))
    var overridePackage: String?
    @Flag(name: [.customShort("O"), .customLong("overwrite")], help: "Update deployments that already exist.")
    var overwrite = false
    @OptionGroup var waiting: WaitOptions

    func validate() throws {
        if let overridePackage, overridePackage.isEmpty { throw ValidationError("-p/--override-package must not be empty") }
    }

    func execute(_ session: PMSession) async throws {
        // An unusable poll interval is a usage error, found before anything is sent.
        let interval = waiting.wait ? try WaitInterval.resolve(session.environment) : WaitInterval.standard
        let manifest = try ManifestFile.load(file)
        session.warn(manifest.warnings, prefix: "\(file): ")
        let plan = try ApplyPlan.make(manifest, overridePackage: overridePackage)
        guard !plan.deployments.isEmpty else {
            throw CLIFailure.usage("'\(file)' holds no deployment", hint: "apply packages with 'oaas package apply'")
        }
        var results: [StructuredValue] = []
        for deployment in plan.deployments {
            results.append(try await PMOperations.applyDeployment(deployment, overwrite: overwrite, session))
        }
        if session.format != .table {
            try session.emit(.object([("deployments", .array(results))]))
        }
        guard waiting.wait else { return }
        // One deadline for all of them: --timeout bounds the whole wait.
        let waiter = DeploymentWaiter(session: session, timeout: waiting.timeout, style: .progress, interval: interval)
        for deployment in plan.deployments {
            _ = try await waiter.wait(for: deployment.key)
        }
    }

    func run() async throws { try await runInProcess() }
}

struct DeployStatusCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a deployment's state per env.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Deployment key.") var key: String
    @OptionGroup var waiting: WaitOptions
    @Flag(name: .customLong("watch"), help: "Like --wait, printing the whole table whenever it changes.")
    var watch = false

    func execute(_ session: PMSession) async throws {
        guard waiting.wait || watch else {
            let view = try await session.client.call(.get, ["deployments", key, "status"]).json()
            if session.format == .table {
                session.out(PMRender.deploymentStatus(view))
            } else {
                try session.emit(view)
            }
            return
        }
        let interval = try WaitInterval.resolve(session.environment)
        let waiter = DeploymentWaiter(session: session, timeout: waiting.timeout, style: watch ? .table : .progress, interval: interval)
        let view = try await waiter.wait(for: key)
        if session.format != .table { try session.emit(view) }
    }

    func run() async throws { try await runInProcess() }
}

struct DeployListCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List deployments, or show one.", aliases: ["l", "ls"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Deployment key (default: all).") var key: String?
    @Option(name: .customLong("package"), help: ArgumentHelp("Only this package's deployments.", valueName: "P")) var package: String?
    @Option(name: .customLong("class"), help: ArgumentHelp("Only this class key.", valueName: "C")) var classKey: String?
    @Option(name: .customLong("env"), help: ArgumentHelp("Only deployments placed in this env.", valueName: "E")) var env: String?
    @Option(name: .customLong("condition"), help: ArgumentHelp("Only this condition (RUNNING, DOWN, …).", valueName: "C"))
    var condition: String?

    var query: [(String, String)] {
        [("package_name", package), ("class_key", classKey), ("target_env", env), ("condition", condition)]
            .compactMap { name, value in value.map { (name, $0) } }
    }

    func execute(_ session: PMSession) async throws {
        let items: [StructuredValue]
        if let key {
            items = [try await session.client.call(.get, ["deployments", key]).json()]
        } else {
            items = try await session.client.list(["deployments"], query: query).items
        }
        if session.format == .table {
            session.out(PMRender.deployments(items))
        } else {
            try session.emit(key == nil ? .array(items) : items.first ?? .null)
        }
    }

    func run() async throws { try await runInProcess() }
}

struct DeployDeleteCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a deployment in every env.", aliases: ["d", "rm"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Deployment key.") var key: String

    func execute(_ session: PMSession) async throws {
        let result = try await PMOperations.deleteDeployment(key, skipMissing: false, session)
        if session.format != .table { try session.emit(result["response"] ?? result) }
    }

    func run() async throws { try await runInProcess() }
}
