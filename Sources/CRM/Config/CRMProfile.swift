/// The CRM deployment profile (control-plane spec §9.1): it picks feature defaults and the default template.
public enum CRMProfile: String, Sendable, Equatable, CaseIterable {
    case dev
    case edge
    case full

    /// Accepts the canonical names and the aliases `prod`, `production` and `cloud` for `full` (case-insensitive).
    public init?(parsing raw: String) {
        switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
        case "dev": self = .dev
        case "edge": self = .edge
        case "full", "prod", "production", "cloud": self = .full
        default: return nil
        }
    }

    /// HPAs are part of the edge and full templates only.
    public var hpaDefault: Bool { self != .dev }
    /// The phase-3 enforcer runs by default on full clusters only.
    public var nfrEnforcementDefault: Bool { self == .full }
    /// Several replicas (and so a Lease) are the full profile's default.
    public var leaderElectionDefault: Bool { self == .full }
}
