import OaaSCore
import OaaSProto

/// Builds the `ObjectChangeEvent` of a committed mutation (spec §6.5, §7.2).
enum ChangeEvents {
    /// One event for the whole mutation. It lists at most `cap` changes (the fan-out cap);
    /// `changed_total` always counts all of them, and `truncated` says the cap was hit, by the
    /// changes or by the trigger deliveries.
    static func make(collection: String, partition: UInt32, id: ObjectID, result: MutationResult, timestampMs: UInt64,
                     originEnv: String, includeValues: Bool, cap: Int, deliveriesTruncated: Bool) -> Oaas_Router_ObjectChangeEvent {
        var event = Oaas_Router_ObjectChangeEvent()
        event.eventID = InvocationIDs.generate()
        event.clsID = collection
        event.partitionID = partition
        switch id {
        case .numeric(let value): event.objectID = value
        case .string(let value): event.objectIDStr = value
        }
        event.version = result.version
        event.source = .local
        event.objectCreated = result.objectCreated
        event.objectDeleted = result.objectDeleted
        event.timestampMs = timestampMs
        event.originEnv = originEnv
        event.changedTotal = UInt32(clamping: result.changes.count)
        event.truncated = deliveriesTruncated || result.changes.count > cap
        event.changes = result.changes.prefix(cap).map { change in
            var entry = Oaas_Router_EntryChange()
            switch change.key {
            case .numeric(let key): entry.key = key
            case .string(let key): entry.keyStr = key
            }
            switch change.action {
            case .create: entry.action = .create
            case .update: entry.action = .update
            case .delete: entry.action = .delete
            }
            if includeValues, let value = change.value { entry.value = value }
            return entry
        }
        return event
    }
}
