import Logging
import Metrics
import OaaSCore

/// What the shards of one node and its trigger dispatcher share: settings, the change-event
/// publisher, metrics, and the signal that wakes the dispatcher when deliveries are committed.
final class NodeEvents: Sendable {
    let settings: EventSettings
    let publisher: any ChangeEventPublisher
    /// False for the discarding publisher: then change events are not even built.
    let publishes: Bool
    let metrics: EventMetrics
    let wakeup = AsyncWakeup()
    let logger: Logger

    init(settings: EventSettings, publisher: any ChangeEventPublisher, metricsFactory: any MetricsFactory, logger: Logger) {
        self.settings = settings
        self.publisher = publisher
        self.publishes = !(publisher is DiscardingChangeEventPublisher)
        self.metrics = EventMetrics(factory: metricsFactory)
        self.logger = logger
    }
}
