import Foundation

/// Where a deployment stands, read from its DeploymentStatusView (spec §4.3).
enum DeploymentProgress: Equatable, Sendable {
    /// RUNNING in every env.
    case running
    /// Some env is DOWN (or its dispatch failed): one `env: why` line each.
    case down([String])
    /// The deployment is being deleted: it will never become RUNNING.
    case deleted
    case inProgress

    static func of(_ view: StructuredValue) -> DeploymentProgress {
        let envs = view["envs"]?.arrayValue ?? []
        let top = normalized(view["condition"])
        let failed = envs.filter { normalized($0["condition"]) == "DOWN" || $0["dispatch"]?.stringValue?.lowercased() == "failed" }
        if !failed.isEmpty {
            return .down(failed.map { "\($0["env"].cell): \(PMRender.envMessage($0) ?? "no message")" })
        }
        if envs.isEmpty, top == "DOWN" {
            return .down([view[path: "status", "last_error"]?.scalarText ?? "no env reported a reason"])
        }
        if top == "DELETED" || envs.contains(where: { normalized($0["condition"]) == "DELETED" }) {
            return .deleted
        }
        if envs.isEmpty {
            return top == "RUNNING" ? .running : .inProgress
        }
        return envs.allSatisfy { normalized($0["condition"]) == "RUNNING" } ? .running : .inProgress
    }

    /// Conditions come SCREAMING on deployments and Titlecase per env (`Running`); compare them uppercased.
    static func normalized(_ value: StructuredValue?) -> String {
        value?.stringValue?.uppercased() ?? ""
    }
}

/// Polls `GET /deployments/{key}/status` until RUNNING everywhere (returns the view), DOWN (exit 1)
/// or the deadline (exit 6), printing what changes.
struct DeploymentWaiter: Sendable {
    enum Style: Sendable {
        /// One line per env whose state changed (`--wait`).
        case progress
        /// The whole status table whenever anything changed (`--watch`).
        case table
    }

    var session: PMSession
    var interval: Duration
    var timeout: WaitDuration
    var deadline: ContinuousClock.Instant
    var style: Style

    init(session: PMSession, timeout: WaitDuration, style: Style, interval: Duration) {
        self.session = session
        self.timeout = timeout
        self.interval = interval
        self.style = style
        self.deadline = ContinuousClock.now.advanced(by: timeout.duration)
    }

    /// Progress goes to stdout with tables, to stderr under `-o json|yaml` (stdout stays one document).
    private func note(_ text: String) {
        if session.format == .table { session.out(text) } else { session.io.err(text) }
    }

    func wait(for key: String) async throws -> StructuredValue {
        let started = ContinuousClock.now
        var seen: [String: String] = [:]
        var lastTable: String?
        while true {
            let view = try await fetch(key)
            switch style {
            case .progress:
                for line in changes(in: view, key: key, seen: &seen) { note(line) }
            case .table:
                let table = PMRender.deploymentStatus(view)
                if table != lastTable {
                    note((lastTable == nil ? "" : "\n") + table)
                    lastTable = table
                }
            }
            switch DeploymentProgress.of(view) {
            case .running:
                let elapsed = ContinuousClock.now - started
                note("✓ deployment '\(key)' is RUNNING (\(Self.seconds(elapsed)))\n")
                return view
            case .down(let reasons):
                throw CLIFailure(code: "DEPLOYMENT_DOWN", message: "deployment '\(key)' is DOWN",
                                 hint: "see 'oaas deploy status \(key)'", details: reasons.map { "- \($0)" })
            case .deleted:
                throw CLIFailure(code: "DEPLOYMENT_DELETED", message: "deployment '\(key)' is being deleted")
            case .inProgress:
                break
            }
            let now = ContinuousClock.now
            guard now < deadline else { throw timedOut(key, view) }
            try await Task.sleep(for: min(interval, deadline - now))
        }
    }

    /// One status read, bounded by the time left (a read cut short by the deadline is a timeout too).
    private func fetch(_ key: String) async throws -> StructuredValue {
        var client = session.client
        let left = deadline - ContinuousClock.now
        client.timeout = max(.seconds(1), min(PMClient.defaultTimeout, left))
        do {
            return try await client.call(.get, ["deployments", key, "status"]).json()
        } catch let failure as CLIFailure where failure.code == "DEADLINE_EXCEEDED" && ContinuousClock.now >= deadline {
            throw timedOut(key, nil)
        }
    }

    /// `key/env: CONDITION (ready n/m) message` for each env whose state differs from the last poll.
    func changes(in view: StructuredValue, key: String, seen: inout [String: String]) -> [String] {
        let envs = view["envs"]?.arrayValue ?? []
        if envs.isEmpty {
            let line = "\(key): \(view["condition"].cell) (no env reported yet)\n"
            guard seen[""] != line else { return [] }
            seen[""] = line
            return [line]
        }
        return envs.compactMap { env in
            var line = "\(key)/\(env["env"].cell): \(env["condition"].cell)"
            if let ready = env["ready"]?.scalarText { line += " (ready \(ready))" }
            if let message = PMRender.envMessage(env) { line += " \(message)" }
            line += "\n"
            let name = env["env"].cell
            guard seen[name] != line else { return nil }
            seen[name] = line
            return line
        }
    }

    private func timedOut(_ key: String, _ view: StructuredValue?) -> CLIFailure {
        let states = (view?["envs"]?.arrayValue ?? []).map { "- \($0["env"].cell): \($0["condition"].cell)" }
        return CLIFailure(code: "DEADLINE_EXCEEDED", message: "deployment '\(key)' is not RUNNING after \(timeout)",
                          hint: "raise --timeout or check 'oaas deploy status \(key)'", details: states, exitCode: 6)
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1fs", Double(seconds) + Double(attoseconds) / 1e18)
    }
}
