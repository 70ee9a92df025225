import OaaSCore
import OaaSProto
import Storage

/// What a committed mutation still has to do once it is durable.
struct StagedEvents: Sendable {
    var timestampMs: UInt64
    /// Deliveries written to the outbox with the mutation.
    var enqueued = 0
    /// Deliveries not written because they would exceed `ODGM_MAX_TRIGGER_DEPTH`.
    var depthExceeded = 0
    /// Deliveries not written because of `ODGM_MAX_BATCH_TRIGGER_FANOUT`.
    var fanoutDropped = 0
    /// The partition's outbox depth after the commit, when deliveries were added.
    var pending: UInt64?
}

/// The events side of one shard (spec §6): inside each mutation's write transaction it matches
/// the data triggers and appends the deliveries to the outbox; after the commit it counts the
/// changes, publishes the change event and wakes the dispatcher.
///
/// A mutation of an object without data triggers writes nothing extra and, with no publisher
/// configured, builds nothing.
final class ShardEvents: Sendable {
    let hub: NodeEvents
    let collection: String
    let partition: UInt32
    let options: CollectionEventOptions
    private let partitionPrefix: [UInt8]
    private let dbs: ObjectDatabases
    private let outbox: TriggerOutbox

    init(hub: NodeEvents, spec: CollectionSpec, partition: UInt32, databases: ObjectDatabases) {
        self.hub = hub
        self.collection = spec.name
        self.partition = partition
        self.options = CollectionEventOptions(spec: spec, settings: hub.settings)
        self.partitionPrefix = ObjectKeys.partitionPrefix(collection: spec.name, partition: partition)
        self.dbs = databases
        self.outbox = TriggerOutbox(dbs: databases)
    }

    private var shardName: String { "\(collection)/\(partition)" }

    // MARK: Data triggers and change events

    /// Runs inside the mutation's transaction. `config` is the trigger config stored before the
    /// mutation, or the new one for an object being created (spec §6.1). Throws RESOURCE_EXHAUSTED
    /// when the outbox is full, which aborts the mutation.
    func stage(_ txn: WriteTransaction, id: ObjectID, result: MutationResult, config: Oprc_ObjectEvent?,
               context: CallContext) throws -> StagedEvents? {
        guard hub.settings.enabled, result.mutated else { return nil }
        var staged = StagedEvents(timestampMs: hub.settings.nowMs())
        guard let config, TriggerMatcher.hasDataTriggers(config) else { return staged }

        let source = TriggerSource(collection: collection, partition: partition, id: id, version: result.version,
                                   timestampMs: staged.timestampMs, deliveryDepth: max(0, context.triggerDepth) + 1,
                                   invocationID: context.invocationID)
        var matched: [(change: EntryChange, target: Oprc_TriggerTarget)] = []
        for change in result.changes {
            for target in TriggerMatcher.targets(for: change, in: config) { matched.append((change, target)) }
        }
        guard !matched.isEmpty else { return staged }
        if source.deliveryDepth > hub.settings.maxDepth {
            staged.depthExceeded = matched.count
            return staged
        }
        let kept = matched.prefix(hub.settings.maxFanout)
        staged.fanoutDropped = matched.count - kept.count
        var deliveries: [TriggerDelivery] = []
        deliveries.reserveCapacity(kept.count)
        var payloads: [EntryKey: Oprc_TriggerPayload] = [:]
        for (change, target) in kept {
            // One payload per change, shared by its targets.
            let payload = payloads[change.key] ?? TriggerPayloads.data(change, source: source)
            payloads[change.key] = payload
            deliveries.append(try TriggerDelivery(target: target, payload: payload, format: options.payloadFormat,
                                                  depth: source.deliveryDepth, traceparent: context.traceparent,
                                                  tracestate: context.tracestate))
        }
        staged.pending = try outbox.append(txn, partitionPrefix: partitionPrefix, id: id, deliveries,
                                           bound: hub.settings.queueBound, shard: shardName)
        staged.enqueued = deliveries.count
        return staged
    }

    /// Runs after the mutation is durable.
    func committed(_ staged: StagedEvents, id: ObjectID, result: MutationResult, context: CallContext) {
        hub.metrics.emitted(result.changes)
        report(staged, id: id, version: result.version, context: context)
        if options.publish && hub.publishes {
            hub.publisher.publish(ChangeEvents.make(
                collection: collection, partition: partition, id: id, result: result, timestampMs: staged.timestampMs,
                originEnv: hub.settings.originEnv, includeValues: options.includeValues, cap: hub.settings.maxFanout,
                deliveriesTruncated: staged.fanoutDropped > 0))
        }
    }

    // MARK: Function triggers

    /// Enqueues the `on_complete` or `on_error` deliveries of an InvokeObj of `fn` on `id`, if the
    /// object's current config has any. One read when it has none; one durable write when it has.
    /// The outbox bound does not apply: the invocation already happened and its triggers are kept.
    func functionFinished(id: ObjectID, fn: String, outcome: FunctionOutcome, context: CallContext, invocationID: String) async throws {
        guard hub.settings.enabled else { return }
        let metaKey = ObjectKeys.meta(ObjectKeys.objectPrefix(partitionPrefix: partitionPrefix, id: id))
        let targetsNow = try dbs.environment.read { txn in try functionTargets(txn, metaKey, fn: fn, outcome: outcome) }
        guard let targetsNow, !targetsNow.targets.isEmpty else { return }

        let initial = StagedEvents(timestampMs: hub.settings.nowMs())
        let depth = max(0, context.triggerDepth) + 1
        if depth > hub.settings.maxDepth {
            var staged = initial
            staged.depthExceeded = targetsNow.targets.count
            report(staged, id: id, version: targetsNow.version, context: context)
            return
        }
        let (outbox, partitionPrefix, maxFanout, format) = (outbox, partitionPrefix, hub.settings.maxFanout, options.payloadFormat)
        let staged = try await dbs.writer.write { [self] txn -> StagedEvents in
            var staged = initial
            // Read again inside the write: the config or the object may have changed meanwhile.
            guard let current = try functionTargets(txn, metaKey, fn: fn, outcome: outcome), !current.targets.isEmpty else { return staged }
            let source = TriggerSource(collection: collection, partition: partition, id: id, version: current.version,
                                       timestampMs: staged.timestampMs, deliveryDepth: depth, invocationID: invocationID)
            let payload = TriggerPayloads.function(fn: fn, outcome: outcome, source: source)
            let kept = current.targets.prefix(maxFanout)
            staged.fanoutDropped = current.targets.count - kept.count
            let deliveries = try kept.map { target in
                try TriggerDelivery(target: target, payload: payload, format: format, depth: depth,
                                    traceparent: context.traceparent, tracestate: context.tracestate)
            }
            staged.pending = try outbox.append(txn, partitionPrefix: partitionPrefix, id: id, deliveries, bound: nil, shard: shardName)
            staged.enqueued = deliveries.count
            return staged
        }
        report(staged, id: id, version: targetsNow.version, context: context)
    }

    /// The live object's version and the function triggers for this outcome; nil if the object is not live.
    private func functionTargets(_ txn: some TransactionProtocol, _ metaKey: [UInt8], fn: String,
                                 outcome: FunctionOutcome) throws -> (version: UInt64, targets: [Oprc_TriggerTarget])? {
        guard let meta = try txn.withValue(dbs.objects, metaKey, { try ObjectMeta.decode($0) }), meta.live else { return nil }
        guard let config = meta.event else { return (meta.version, []) }
        return (meta.version, TriggerMatcher.targets(fn: fn, succeeded: outcome.succeeded, in: config))
    }

    // MARK: After commit

    /// Metrics and logs of what was (not) enqueued, and a wakeup for the dispatcher.
    private func report(_ staged: StagedEvents, id: ObjectID, version: UInt64, context: CallContext) {
        if staged.depthExceeded > 0 {
            hub.metrics.depthLimited(staged.depthExceeded)
            hub.logger.warning("trigger depth limit reached; deliveries not sent", metadata: [
                "cls": "\(collection)", "partition": "\(partition)", "object": "\(id)", "version": "\(version)",
                "depth": "\(max(0, context.triggerDepth))", "max_depth": "\(hub.settings.maxDepth)",
                "dropped": "\(staged.depthExceeded)", "invocation_id": "\(context.invocationID ?? "-")",
            ])
        }
        if staged.fanoutDropped > 0 {
            hub.metrics.fanoutLimited(staged.fanoutDropped)
            hub.logger.warning("trigger fan-out cap reached; excess deliveries dropped", metadata: [
                "cls": "\(collection)", "partition": "\(partition)", "object": "\(id)", "version": "\(version)",
                "dropped": "\(staged.fanoutDropped)", "max_fanout": "\(hub.settings.maxFanout)",
            ])
        }
        if let pending = staged.pending {
            hub.metrics.outboxDepth(collection: collection, partition: partition, pending: pending)
            if staged.enqueued > 0 { hub.wakeup.wake() }
        }
    }
}
