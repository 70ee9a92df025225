import Foundation
import OaaSModels

/// A package/deployment file given to `package apply|delete` and `deploy apply` (spec §15): YAML or JSON,
/// several YAML documents allowed, decoded by the shared model decoder.
struct ManifestFile: Sendable {
    var path: String
    var documents: [ModelDocument]
    /// Unknown fields and similar; printed as `warning: FILE: …`.
    var warnings: [String]

    /// Reads and decodes `path` (`-` = stdin). The extension picks the format; anything else is sniffed.
    static func load(_ path: String, stdin: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }) throws -> ManifestFile {
        let data: Data
        if path == "-" {
            data = stdin()
        } else {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIFailure(code: "NOT_FOUND", message: "file '\(path)' does not exist")
            }
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw CLIFailure(code: "INVALID_ARGUMENT", message: "cannot read '\(path)': \(error.localizedDescription)")
            }
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure(code: "INVALID_ARGUMENT", message: "\(path): not valid UTF-8")
        }
        return try decode(text, path: path, format: format(of: path))
    }

    static func decode(_ text: String, path: String, format: DocumentFormat? = nil) throws -> ManifestFile {
        do {
            let decoded = try ModelDecoder().decodeDocuments(text, format: format)
            return ManifestFile(path: path, documents: decoded.value, warnings: decoded.warnings)
        } catch {
            throw CLIFailure(code: "INVALID_ARGUMENT", message: "\(path): \(error.message)",
                             details: error.details.count > 1 ? error.details.map { "- \($0)" } : [])
        }
    }

    static func format(of path: String) -> DocumentFormat? {
        switch (path as NSString).pathExtension.lowercased() {
        case "json": .json
        case "yaml", "yml": .yaml
        default: nil
        }
    }

    var packages: [OPackage] {
        documents.compactMap { if case .package(let p) = $0 { p } else { nil } }
    }
}

/// What `package apply` / `deploy apply` send, in order: packages (without their `deployments`, which PM
/// would not store), then every deployment with its `package_name` settled.
struct ApplyPlan: Equatable, Sendable {
    var packages: [OPackage]
    var deployments: [OClassDeployment]

    /// `-p/--override-package` renames the file's package; deployments inside a package document take the
    /// package's (new) name when theirs is empty or the old name; standalone deployment documents do the same
    /// when the file holds exactly one package.
    static func make(_ file: ManifestFile, overridePackage: String?) throws -> ApplyPlan {
        let packages = file.packages
        if overridePackage != nil, packages.count > 1 {
            throw CLIFailure.usage("-p/--override-package needs a file with one package; '\(file.path)' has \(packages.count)")
        }
        var plan = ApplyPlan(packages: [], deployments: [])
        let single = packages.count == 1 ? packages.first : nil
        for document in file.documents {
            switch document {
            case .package(var package):
                let original = package.name
                if let overridePackage { package.name = overridePackage }
                plan.deployments += package.deployments.map { settle($0, original: original, name: package.name) }
                package.deployments = []
                plan.packages.append(package)
            case .deployment(let deployment):
                if let single {
                    plan.deployments.append(settle(deployment, original: single.name, name: overridePackage ?? single.name))
                } else if let overridePackage {
                    var copy = deployment
                    copy.packageName = overridePackage
                    plan.deployments.append(copy)
                } else {
                    plan.deployments.append(deployment)
                }
            }
        }
        return plan
    }

    private static func settle(_ deployment: OClassDeployment, original: String, name: String) -> OClassDeployment {
        var copy = deployment
        if copy.packageName.isEmpty || copy.packageName == original { copy.packageName = name }
        return copy
    }
}
