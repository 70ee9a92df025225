import Foundation
import OaaSModels

extension PMRole {
    /// `oaas dev -c FILE` and tests: applies a (multi-)document file like `oaas package apply -d`. Packages are
    /// created or overwritten, then each package's `deployments[]` and the standalone deployment documents are
    /// upserted. Returns one human-readable line per item (and per warning); failures are lines, not throws.
    /// Call it once the role's services run: dispatch needs the CRM connections.
    public func applyDocuments(_ data: Data, name: String) async -> [String] {
        let format: DocumentFormat? = switch (name as NSString).pathExtension.lowercased() {
        case "json": .json
        case "yaml", "yml": .yaml
        default: nil
        }
        let decoded: Decoded<[ModelDocument]>
        do {
            guard let text = String(data: data, encoding: .utf8) else { return ["error: \(name): not valid UTF-8"] }
            decoded = try ModelDecoder().decodeDocuments(text, format: format)
        } catch {
            return ["error: \(name): \(error.code.rawValue): \(error.message)"]
        }
        var lines = decoded.warnings.map { "warning: \(name): \($0)" }
        let correlationId = "apply-\(UUID().uuidString.lowercased())"
        var applyLogger = logger
        applyLogger[metadataKey: "correlation_id"] = "\(correlationId)"
        let packageNames = decoded.value.compactMap { document -> String? in
            if case .package(let package) = document { return package.name }
            return nil
        }
        var deployments: [OClassDeployment] = []
        for document in decoded.value {
            switch document {
            case .package(let package):
                lines += await applyPackage(package, correlationId: correlationId)
                deployments += package.deployments.map { deployment in
                    var filled = deployment
                    if filled.packageName.isEmpty { filled.packageName = package.name }
                    return filled
                }
            case .deployment(let deployment):
                var filled = deployment
                if filled.packageName.isEmpty, packageNames.count == 1, let only = packageNames.first { filled.packageName = only }
                deployments.append(filled)
            }
        }
        let call = CRMCall(correlationId: correlationId, timeout: CRMEnvConfig.defaultTimeout)
        for deployment in deployments {
            do {
                let result = try await manager.upsert(deployment, call: call, logger: applyLogger)
                let units = result.units.map { "\($0.env): \($0.resultName)" }.joined(separator: ", ")
                lines.append("deployment \(result.key): \(result.status.rawValue) (\(units))")
                lines += result.warnings.map { "warning: deployment \(result.key): \($0)" }
            } catch {
                lines.append("error: deployment \(deployment.key): \(error.code.rawValue): \(error.message)")
            }
        }
        return lines
    }

    private func applyPackage(_ package: OPackage, correlationId: String) async -> [String] {
        var logger = logger
        logger[metadataKey: "correlation_id"] = "\(correlationId)"
        do {
            let exists = try await manager.storage { try await self.manager.store.package(package.name) } != nil
            let result = exists
                ? try await routes.packages.update(package, warnings: [], preconditions: .none, redeploy: true, correlationId: correlationId, logger: logger)
                : try await routes.packages.create(package, warnings: [], logger: logger)
            // The file's deployments are applied right after, so the validator's hint to apply them separately is noise.
            let warnings = result.warnings.filter { !$0.hasPrefix("deployments:") }
            return ["package \(result.name): \(result.status.rawValue)"] + warnings.map { "warning: package \(result.name): \($0)" }
        } catch {
            return ["error: package \(package.name): \(error.code.rawValue): \(error.message)"]
        }
    }
}
