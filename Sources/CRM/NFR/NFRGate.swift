import Foundation

/// Stability and cooldown bookkeeping of one (ClassRuntime, function, dimension).
struct NFRGateEntry: Sendable, Equatable {
    /// The recommendation last seen outside a cooldown.
    var target: Int
    /// When `target` was first seen.
    var since: Date
    /// No apply before this instant.
    var cooldownUntil: Date?
    /// The value the enforcer last wrote (restored at once if the reconciler overwrites it).
    var applied: Int?
}

enum NFRGateVerdict: Sendable, Equatable {
    /// Skip: an apply happened less than `OPRC_CRM_ENFORCEMENT_COOLDOWN_SECS` ago (`NFRSkippedCooldown`).
    case cooldown(until: Date)
    /// Skip: the target is new (`changed`, `NFRSkippedStability`) or not yet stable for
    /// `OPRC_CRM_ENFORCEMENT_STABILITY_SECS`.
    case unstable(changed: Bool)
    case ready
}

/// The enforcer's decision rule (control-plane spec §12), in its order: in cooldown ⇒ skip; target changed ⇒
/// remember it and when it was seen; the same target for ≥ STABILITY ⇒ apply (then the caller starts the cooldown).
enum NFRGate {
    static func evaluate(_ entry: NFRGateEntry?, target: Int, now: Date, stability: Duration, cooldownSeed: Date?)
        -> (NFRGateVerdict, NFRGateEntry)
    {
        guard var entry else {
            // First sight (or a new leader): a cooldown recorded in the status still holds.
            let fresh = NFRGateEntry(target: target, since: now, cooldownUntil: cooldownSeed)
            if let until = cooldownSeed, now < until { return (.cooldown(until: until), fresh) }
            return (.unstable(changed: true), fresh)
        }
        if let until = entry.cooldownUntil, now < until { return (.cooldown(until: until), entry) }
        if entry.target != target {
            entry.target = target
            entry.since = now
            return (.unstable(changed: true), entry)
        }
        if now.timeIntervalSince(entry.since) < PhaseEvaluator.seconds(stability) {
            return (.unstable(changed: false), entry)
        }
        return (.ready, entry)
    }
}

/// The gates of every enforced (ClassRuntime, function, dimension), kept by the leader for its term.
actor NFRGates {
    private var entries: [String: NFRGateEntry] = [:]

    func check(_ key: String, target: Int, now: Date, stability: Duration, cooldownSeed: Date?) -> NFRGateVerdict {
        let (verdict, entry) = NFRGate.evaluate(entries[key], target: target, now: now, stability: stability,
                                                cooldownSeed: cooldownSeed)
        entries[key] = entry
        return verdict
    }

    /// Records an apply and starts the cooldown.
    func applied(_ key: String, value: Int, cooldownUntil: Date) {
        entries[key]?.applied = value
        entries[key]?.cooldownUntil = cooldownUntil
    }

    /// Forgets gates of ClassRuntimes, functions or dimensions no longer enforced.
    func retain(_ keys: Set<String>) {
        entries = entries.filter { keys.contains($0.key) }
    }

    func entry(_ key: String) -> NFRGateEntry? { entries[key] }
}
