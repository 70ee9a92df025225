import OaaSProto
import Synchronization

/// One Subscribe stream's queue (spec §7.1): bounded; on overflow the oldest event goes and the next delivery
/// reports how many went in `dropped_before`.
final class Subscriber: Sendable {
    let id: UInt64
    let filter: SubscriptionFilter
    /// Wakes the stream writer; one buffered signal is enough because the writer drains the queue.
    let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation
    private let state: Mutex<State>

    private struct State {
        var buffer: RingBuffer<Oaas_Router_ObjectChangeEvent>
        var dropped: UInt64 = 0
    }

    init(id: UInt64, filter: SubscriptionFilter, capacity: Int) {
        self.id = id
        self.filter = filter
        (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state = Mutex(State(buffer: RingBuffer(capacity: capacity)))
    }

    /// Queues a matching event; returns false when it displaced (dropped) the oldest one.
    func offer(_ event: Oaas_Router_ObjectChangeEvent) -> Bool {
        var event = event
        if !filter.includeValues {
            for index in event.changes.indices { event.changes[index].clearValue() }
        }
        let overflowed = state.withLock { state in
            let dropped = state.buffer.append(event)
            if dropped { state.dropped += 1 }
            return dropped
        }
        signal.yield()
        return !overflowed
    }

    /// The oldest queued event, with the number of events dropped before it since the last delivery. The count is
    /// read under the same lock as the pop: drops always take the oldest, so every one counted is older than it.
    func next() -> Oaas_Router_EventDelivery? {
        state.withLock { state in
            guard let event = state.buffer.popFirst() else { return nil }
            var delivery = Oaas_Router_EventDelivery()
            delivery.event = event
            delivery.droppedBefore = state.dropped
            state.dropped = 0
            return delivery
        }
    }

    /// Ends `signals`: the stream writer stops.
    func close() {
        signal.finish()
    }
}
