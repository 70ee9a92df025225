import Foundation
import OaaSModels

/// The PM calls shared by several commands, each printing its own one-line result in table mode.
enum PMOperations {
    /// POST /packages; when it exists, POST /packages/{name} with `--overwrite`, else ALREADY_EXISTS (spec §15).
    static func applyPackage(_ package: OPackage, overwrite: Bool, _ session: PMSession) async throws -> StructuredValue {
        let body = ModelEncoder().jsonData(package)
        var response = try await session.client.send(.post, ["packages"], json: body)
        if !response.isSuccess {
            let error = PMError(response: response)
            guard error.code == "ALREADY_EXISTS" else { throw error }
            guard overwrite else {
                throw CLIFailure(code: "ALREADY_EXISTS", message: "package '\(package.name)' exists; use --overwrite",
                                 hint: "pass -O/--overwrite to update it")
            }
            response = try await session.client.call(.post, ["packages", package.name], json: body)
        }
        let json = try response.json()
        session.warn(from: json)
        if session.format == .table {
            var text = "✓ package '\(package.name)' \(json["status"]?.stringValue ?? (response.status == 201 ? "created" : "updated"))\n"
            if let redeployed = json["redeployed"]?.scalarText {
                text += "  redeploying: \(redeployed.replacingOccurrences(of: ",", with: ", "))\n"
            }
            session.out(text)
        }
        return json
    }

    /// POST /deployments, create-only (`If-None-Match: *`) unless overwriting; prints the per-env units.
    static func applyDeployment(_ deployment: OClassDeployment, overwrite: Bool, _ session: PMSession) async throws -> StructuredValue {
        let headers = overwrite ? [] : [("If-None-Match", "*")]
        let response = try await session.client.send(.post, ["deployments"], headers: headers,
                                                     json: ModelEncoder().jsonData(deployment))
        guard response.isSuccess else {
            let error = PMError(response: response)
            if error.code == "ALREADY_EXISTS", !overwrite {
                throw CLIFailure(code: "ALREADY_EXISTS", message: "deployment '\(deployment.key)' exists; use --overwrite",
                                 hint: "pass --overwrite to update it in place")
            }
            throw error
        }
        let json = try response.json()
        session.warn(from: json)
        if session.format == .table {
            let status = json["status"]?.stringValue ?? "applied"
            var text = "✓ deployment '\(deployment.key)' \(status)"
            if status == "accepted" { text += " (some envs pending; PM keeps retrying)" }
            session.out(text + "\n" + PMRender.units(json))
        }
        return json
    }

    /// DELETE /deployments/{key}: 200 deleted, 202 pending in some envs; 404 is skipped when `skipMissing`.
    static func deleteDeployment(_ key: String, skipMissing: Bool, _ session: PMSession) async throws -> StructuredValue {
        let response = try await session.client.send(.delete, ["deployments", key])
        if response.status == 404, skipMissing {
            if session.format == .table { session.out("- deployment '\(key)' not found (skipped)\n") }
            return .object([("key", .string(key)), ("result", .string("not_found"))])
        }
        guard response.isSuccess else { throw PMError(response: response) }
        let json = try response.json()
        let pending = json["pending_envs"]?.scalarText
        if session.format == .table {
            if let pending {
                session.out("… deployment '\(key)' deletion pending in: \(pending.replacingOccurrences(of: ",", with: ", ")) (PM finishes it)\n")
            } else if let envs = json["deleted_envs"]?.scalarText {
                session.out("✓ deployment '\(key)' deleted from \(envs.replacingOccurrences(of: ",", with: ", "))\n")
            } else {
                session.out("✓ deployment '\(key)' deleted\n")
            }
        }
        let result: StructuredValue = .string(pending == nil ? "deleted" : "pending")
        return .object([("key", .string(key)), ("result", result), ("response", json)])
    }

    /// DELETE /packages/{name}[?cascade=true]; IN_USE gets a hint about `--cascade`.
    static func deletePackage(_ name: String, cascade: Bool, _ session: PMSession) async throws -> StructuredValue {
        let response = try await session.client.send(.delete, ["packages", name], query: cascade ? [("cascade", "true")] : [])
        guard response.isSuccess else {
            let error = PMError(response: response)
            var failure = error.cliFailure
            if error.code == "IN_USE", !cascade {
                failure.hint = "pass --cascade to delete its deployments too, or -d with the file that lists them"
            }
            throw failure
        }
        if session.format == .table { session.out("✓ package '\(name)' deleted\n") }
        return .object([("name", .string(name)), ("deleted", .bool(true))])
    }
}
