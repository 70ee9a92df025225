import OaaSCore
import OaaSProto
import Synchronization

/// Fan-out of change events (spec §6.5, §7.1 Publish/Subscribe). Publishing never waits on a subscriber: each has
/// its own bounded queue.
final class EventHub: Sendable {
    let env: String
    let capacity: Int
    private let metrics: RouterMetrics
    private let state = Mutex<State>(State())

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var nextID: UInt64 = 0
    }

    init(env: String, capacity: Int, metrics: RouterMetrics) {
        self.env = env
        self.capacity = capacity
        self.metrics = metrics
        metrics.subscribers(0)
    }

    func subscribe(_ filter: SubscriptionFilter) -> Subscriber {
        let (subscriber, count) = state.withLock { state in
            state.nextID += 1
            let subscriber = Subscriber(id: state.nextID, filter: filter, capacity: capacity)
            state.subscribers[subscriber.id] = subscriber
            return (subscriber, state.subscribers.count)
        }
        metrics.subscribers(count)
        return subscriber
    }

    func unsubscribe(_ subscriber: Subscriber) {
        subscriber.close()
        let count = state.withLock { state in
            state.subscribers[subscriber.id] = nil
            return state.subscribers.count
        }
        metrics.subscribers(count)
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Checks a Publish batch before anything is delivered, so a bad batch publishes nothing.
    static func validate(_ events: [Oaas_Router_ObjectChangeEvent]) throws(OaaSError) {
        for (index, event) in events.enumerated() where event.clsID.isEmpty {
            throw OaaSError(.invalidArgument, "events[\(index)].cls_id required")
        }
    }

    /// Delivers `events` to every matching subscriber and returns how many were accepted. `bridged` marks events
    /// re-published from a peer; `local_only` subscribers skip them, which is what stops peering loops.
    @discardableResult
    func publish(_ events: [Oaas_Router_ObjectChangeEvent], bridged: Bool) -> Int {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        var dropped = 0
        for var event in events {
            // Events from local nodes that named no env belong to this router's env.
            if event.originEnv.isEmpty && !bridged { event.originEnv = env }
            for subscriber in subscribers where subscriber.filter.matches(event, bridged: bridged) {
                if !subscriber.offer(event) { dropped += 1 }
            }
        }
        metrics.published(events.count)
        metrics.dropped(dropped)
        return events.count
    }
}
