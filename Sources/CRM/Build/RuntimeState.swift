/// The externally visible state of a ClassRuntime, from which every read mapping of control-plane spec §8.3 follows.
enum RuntimeState: Equatable {
    case pending
    case progressing
    case available
    case degraded(reason: String, message: String)
    case deleting
    /// Status present but neither a known phase nor a recognisable condition (another controller version).
    case unknown

    init(_ cr: ClassRuntime) {
        if cr.isBeingDeleted {
            self = .deleting
            return
        }
        guard let status = cr.status else {
            self = .pending
            return
        }
        switch status.phase {
        case .pending: self = .pending
        case .applying, .progressing: self = .progressing
        case .available: self = .available
        case .degraded: self = Self.degraded(status)
        case .deleting: self = .deleting
        case nil:
            // No phase we know: fall back to the standard conditions.
            if status.condition(ClassRuntimeCondition.degraded)?.isTrue == true {
                self = Self.degraded(status)
            } else if status.condition(ClassRuntimeCondition.available)?.isTrue == true {
                self = .available
            } else if status.condition(ClassRuntimeCondition.progressing)?.isTrue == true {
                self = .progressing
            } else {
                self = .unknown
            }
        }
    }

    private static func degraded(_ status: ClassRuntimeStatus) -> RuntimeState {
        let condition = status.condition(ClassRuntimeCondition.degraded)
        return .degraded(reason: condition?.reason ?? "Unknown",
                         message: condition?.message ?? status.message ?? "")
    }

    /// `Available` | `Progressing` | `Degraded (<reason>): <message>` | `Pending` | `Deleting` | `Unknown`.
    var summary: String {
        switch self {
        case .pending: "Pending"
        case .progressing: "Progressing"
        case .available: "Available"
        case .degraded(let reason, let message): "Degraded (\(reason)): \(message)"
        case .deleting: "Deleting"
        case .unknown: "Unknown"
        }
    }

    /// The word a status filter matches against (`Degraded` without reason).
    var filterName: String {
        switch self {
        case .degraded: "Degraded"
        default: summary
        }
    }
}
