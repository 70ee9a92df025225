import Foundation
import Kube

/// The analyzer's and enforcer's conditions (`NfrObserved`, `NfrEnforced`), upserted by type the way the reconciler
/// treats its own: `lastTransitionTime` moves only when the status flips.
enum NFRConditions {
    static func upsert(_ condition: ClassRuntimeCondition, into conditions: [ClassRuntimeCondition], now: Date)
        -> [ClassRuntimeCondition]
    {
        var condition = condition
        let before = conditions.first { $0.type == condition.type }
        condition.lastTransitionTime = before?.status == condition.status
            ? (before?.lastTransitionTime ?? KubeTime.format(now)) : KubeTime.format(now)
        guard before != nil else { return conditions + [condition] }
        return conditions.map { $0.type == condition.type ? condition : $0 }
    }
}

/// RFC 7386 merge-patch construction.
enum JSONMergeDiff {
    /// The merge patch that turns `old` into `new` (nil = absent); nil when they are equal. Objects are diffed key by
    /// key (removed keys become `null`) so a stale nested key never survives; anything else is replaced whole.
    static func patch(from old: JSONValue?, to new: JSONValue?) -> JSONValue? {
        guard let new else { return old == nil ? nil : .null }
        guard let oldObject = old?.objectValue, let newObject = new.objectValue else {
            return old == new ? nil : new
        }
        var result: [String: JSONValue] = [:]
        for key in Set(oldObject.keys).union(newObject.keys) {
            if let change = patch(from: oldObject[key], to: newObject[key]) { result[key] = change }
        }
        return result.isEmpty ? nil : .object(result)
    }
}
