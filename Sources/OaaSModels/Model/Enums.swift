/// The enums of spec §2.1 (and the enforcement block): SCREAMING (or lowercase) raw values, lenient input.
public protocol ModelEnum: RawRepresentable<String>, CaseIterable, Sendable, Hashable {}

extension ModelEnum {
    /// The case whose name matches `text`, ignoring case and surrounding spaces.
    public init?(parsing text: String) {
        let wanted = text.trimmingASCIIWhitespace().uppercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.uppercased() == wanted }) else { return nil }
        self = match
    }
}

/// How a function is run (spec §2.1).
public enum FunctionType: String, ModelEnum, Codable {
    case builtin = "BUILTIN"
    case custom = "CUSTOM"
    case macro = "MACRO"
    case logical = "LOGICAL"
    case wasm = "WASM"

    /// BUILTIN, MACRO and LOGICAL functions are never provisioned; their bindings are disabled.
    public var isProvisioned: Bool { self == .custom || self == .wasm }
}

/// Visibility of a class method (spec §2.1); input is case-insensitive, output SCREAMING.
public enum FunctionAccessModifier: String, ModelEnum, Codable {
    case `public` = "PUBLIC"
    case `internal` = "INTERNAL"
    case `private` = "PRIVATE"
}

/// Consistency of a class's state (spec §2.1).
public enum ConsistencyModel: String, ModelEnum, Codable {
    case none = "NONE"
    case readYourWrite = "READ_YOUR_WRITE"
    case boundedStaleness = "BOUNDED_STALENESS"
    case strong = "STRONG"

    /// The spelling of `UnitNfr.consistency` (spec §5.4): `NONE` is `eventual`.
    public var unitNfrValue: String {
        switch self {
        case .none: "eventual"
        case .readYourWrite: "read_your_write"
        case .boundedStaleness: "bounded_staleness"
        case .strong: "strong"
        }
    }
}

/// Aggregated state of a deployment (spec §2.1, §5.8).
public enum DeploymentCondition: String, ModelEnum, Codable {
    case pending = "PENDING"
    case deploying = "DEPLOYING"
    case running = "RUNNING"
    case down = "DOWN"
    case deleted = "DELETED"

    /// Severity for aggregation over envs (spec §5.8): DOWN = DELETED > DEPLOYING > PENDING > RUNNING.
    public var severity: Int {
        switch self {
        case .running: 1
        case .pending: 2
        case .deploying: 3
        case .down, .deleted: 4
        }
    }

    /// The most severe of the per-env conditions (PENDING when there are none); on a tie the first wins.
    public static func aggregate(_ conditions: some Sequence<DeploymentCondition>) -> DeploymentCondition {
        var result: DeploymentCondition?
        for condition in conditions where result.map({ condition.severity > $0.severity }) ?? true {
            result = condition
        }
        return result ?? .pending
    }
}

/// Per-env dispatch state kept in `status.envs` (spec §2.3, §5.5).
public enum DispatchState: String, ModelEnum, Codable {
    case pending
    case accepted
    case failed
    case deleting
}

/// NFR phase 3 opt-in (spec §2.3 `enforcement.mode`, §12).
public enum EnforcementMode: String, ModelEnum, Codable {
    case off
    case observe
    case enforce
}

/// What the enforcer may change (spec §2.3 `enforcement.dimensions`).
public enum EnforcementDimension: String, ModelEnum, Codable {
    case replicas
    case cpu
    case memory
}
