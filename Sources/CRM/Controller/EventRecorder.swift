import Foundation
import Kube
import Logging
import Synchronization

/// Records core/v1 Events about ClassRuntimes (control-plane spec §9.5) with deduplication: the same (object, reason,
/// message) within the window patches `count` and `lastTimestamp` of the earlier Event instead of creating a new one.
/// Recording never fails the caller: a failed write is logged.
final class EventRecorder: Sendable {
    enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    /// The object an Event is about.
    struct Target: Sendable, Hashable {
        var apiVersion: String
        var kind: String
        var name: String
        var namespace: String
        var uid: String?
        var resourceVersion: String?
        /// `oaas.io/correlation-id` of the request that caused the change, copied onto the Event.
        var correlationId: String?
    }

    private struct Recorded {
        var eventName: String
        var count: Int64
        var lastSeen: ContinuousClock.Instant
    }

    static let reportingController = "oaas.io/crm"
    static let sourceComponent = "oprc-crm"

    private let client: KubeClient
    private let reportingInstance: String
    private let window: Duration
    private let logger: Logger
    private let recorded = Mutex<[String: Recorded]>([:])

    init(client: KubeClient, reportingInstance: String, window: Duration, logger: Logger) {
        self.client = client
        self.reportingInstance = reportingInstance
        self.window = window
        self.logger = logger
    }

    func record(_ target: Target, _ type: EventType, reason: String, message: String) async {
        let key = "\(target.namespace)/\(target.uid ?? target.name)|\(reason)|\(message)"
        let now = ContinuousClock.now
        let window = self.window
        // Claim the slot under the lock so two concurrent identical records produce one Event.
        let previous: Recorded? = recorded.withLock { entries in
            entries = entries.filter { $0.value.lastSeen.duration(to: now) < window }
            guard var entry = entries[key] else { return nil }
            entry.count += 1
            entry.lastSeen = now
            entries[key] = entry
            return entry
        }
        let timestamp = JSONValue.string(KubeTime.format(Date()))
        if let previous {
            do {
                try await client.mergePatch(.events, namespace: target.namespace, name: previous.eventName,
                                            ["count": .int(previous.count), "lastTimestamp": timestamp])
                return
            } catch let error as KubeError where error.isNotFound {
                // Someone deleted (or TTL-expired) it: start a new series below.
            } catch {
                logger.warning("could not update event", metadata: ["reason": "\(reason)", "error": "\(error)"])
                return
            }
        }
        let name = "\(target.name).\(Self.randomSuffix())"
        var event = KubeObject(.events, name: name, namespace: target.namespace)
        if let correlationId = target.correlationId, !correlationId.isEmpty {
            event.annotations = ["oaas.io/correlation-id": correlationId]
        }
        var involved: JSONValue = [
            "apiVersion": .string(target.apiVersion), "kind": .string(target.kind), "name": .string(target.name),
            "namespace": .string(target.namespace),
        ]
        if let uid = target.uid { involved["uid"] = .string(uid) }
        if let version = target.resourceVersion { involved["resourceVersion"] = .string(version) }
        event["involvedObject"] = involved
        event["reason"] = .string(reason)
        event["message"] = .string(String(message.prefix(1024)))
        event["type"] = .string(type.rawValue)
        event["count"] = 1
        event["firstTimestamp"] = timestamp
        event["lastTimestamp"] = timestamp
        event["source"] = ["component": .string(Self.sourceComponent)]
        // core/v1 spells the reporting controller `reportingComponent` on the wire.
        event["reportingComponent"] = .string(Self.reportingController)
        event["reportingInstance"] = .string(reportingInstance)
        do {
            try await client.create(.events, event)
            recorded.withLock { $0[key] = Recorded(eventName: name, count: 1, lastSeen: now) }
        } catch {
            recorded.withLock { _ = $0.removeValue(forKey: key) }
            logger.warning("could not record event", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }

    private static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
