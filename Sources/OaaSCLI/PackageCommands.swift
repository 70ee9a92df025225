import ArgumentParser
import Foundation

/// `oaas package …` (aliases `pkg`, `p`; spec §15).
struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Apply, inspect and delete packages in PM.",
        subcommands: [PackageApplyCommand.self, PackageGetCommand.self, PackageListCommand.self, PackageDeleteCommand.self],
        aliases: ["pkg", "p"]
    )
}

struct PackageApplyCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Create or update the packages of a file (and with -d its deployments).",
        aliases: ["a", "create", "c"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "YAML or JSON file, several documents allowed ('-' reads stdin).") var file: String
    @Option(name: [.customShort("p"), .customLong("override-package")], help: ArgumentHelp("Apply the package under this name.", valueName: "N"))
    var overridePackage: String?
    @Flag(name: [.customShort("d"), .customLong("apply-deployments")], help: "Also apply the file's deployments.")
    var applyDeployments = false
    @Flag(name: [.customShort("O"), .customLong("overwrite")], help: "Update a package (and deployments) that already exist.")
    var overwrite = false

    func validate() throws {
        if let overridePackage, overridePackage.isEmpty { throw ValidationError("-p/--override-package must not be empty") }
    }

    func execute(_ session: PMSession) async throws {
        let manifest = try ManifestFile.load(file)
        session.warn(manifest.warnings, prefix: "\(file): ")
        let plan = try ApplyPlan.make(manifest, overridePackage: overridePackage)
        guard !plan.packages.isEmpty else {
            throw CLIFailure.usage("'\(file)' holds no package", hint: "apply deployment files with 'oaas deploy apply'")
        }
        var packages: [StructuredValue] = []
        for package in plan.packages {
            packages.append(try await PMOperations.applyPackage(package, overwrite: overwrite, session))
        }
        var deployments: [StructuredValue] = []
        if applyDeployments {
            for deployment in plan.deployments {
                deployments.append(try await PMOperations.applyDeployment(deployment, overwrite: overwrite, session))
            }
        } else if !plan.deployments.isEmpty {
            session.io.err("note: \(plan.deployments.count) deployment(s) in '\(file)' not applied; add -d/--apply-deployments\n")
        }
        if session.format != .table {
            try session.emit(.object([("packages", .array(packages)), ("deployments", .array(deployments))]))
        }
    }

    func run() async throws { try await runInProcess() }
}

struct PackageGetCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one package.", aliases: ["g"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Package name.") var name: String

    func execute(_ session: PMSession) async throws {
        let package = try await session.client.call(.get, ["packages", name]).json()
        if session.format == .table {
            session.out(PMRender.packages([package]))
        } else {
            try session.emit(package)
        }
    }

    func run() async throws { try await runInProcess() }
}

struct PackageListCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List packages.", aliases: ["l", "ls"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Option(name: .customLong("name-pattern"), help: ArgumentHelp("Only names containing S.", valueName: "S")) var namePattern: String?
    @Option(name: .customLong("tag"), help: ArgumentHelp("Only packages with this tag (repeatable: any matches).", valueName: "T"))
    var tags: [String] = []

    var query: [(String, String)] {
        (namePattern.map { [("name_pattern", $0)] } ?? []) + tags.map { ("tag", $0) }
    }

    func execute(_ session: PMSession) async throws {
        let (packages, _) = try await session.client.list(["packages"], query: query)
        if session.format == .table {
            session.out(PMRender.packages(packages))
        } else {
            try session.emit(.array(packages))
        }
    }

    func run() async throws { try await runInProcess() }
}

struct PackageDeleteCommand: ControlPlaneCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a package (by name or by the file that defines it).", aliases: ["d", "rm", "r"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: PMOptions
    @Argument(help: "Package file or package name.") var target: String
    @Option(name: [.customShort("p"), .customLong("override-package")], help: ArgumentHelp("Package name to delete instead of the file's.", valueName: "N"))
    var overridePackage: String?
    @Flag(name: [.customShort("d"), .customLong("delete-deployments")], help: "First delete the deployments the file lists (missing ones skipped).")
    var deleteDeployments = false
    @Flag(name: .customLong("cascade"), help: "Let PM delete every deployment of the package first.")
    var cascade = false

    /// A name never contains `.` or `/` (spec §3), so such a target is a file even when it is missing.
    var targetIsFile: Bool {
        target == "-" || FileManager.default.fileExists(atPath: target) || target.contains("/") || target.contains(".")
    }

    func execute(_ session: PMSession) async throws {
        var packageNames: [String]
        var deployments: [String] = []
        if targetIsFile {
            let manifest = try ManifestFile.load(target)
            session.warn(manifest.warnings, prefix: "\(target): ")
            let plan = try ApplyPlan.make(manifest, overridePackage: overridePackage)
            // Files list dependencies first; dependents must go first.
            packageNames = plan.packages.map(\.name).reversed()
            if deleteDeployments { deployments = plan.deployments.map(\.key) }
            if packageNames.isEmpty, deployments.isEmpty {
                throw CLIFailure.usage("'\(target)' holds no package", hint: "delete deployments with 'oaas deploy delete KEY'")
            }
        } else {
            packageNames = [overridePackage ?? target]
            if deleteDeployments {
                session.io.err("note: -d/--delete-deployments needs a file listing the deployments; use --cascade to delete them all\n")
            }
        }
        var deleted: [StructuredValue] = []
        for key in deployments {
            deleted.append(try await PMOperations.deleteDeployment(key, skipMissing: true, session))
        }
        var packages: [StructuredValue] = []
        for name in packageNames {
            packages.append(try await PMOperations.deletePackage(name, cascade: cascade, session))
        }
        if session.format != .table {
            try session.emit(.object([("deployments", .array(deleted)), ("packages", .array(packages))]))
        }
    }

    func run() async throws { try await runInProcess() }
}
