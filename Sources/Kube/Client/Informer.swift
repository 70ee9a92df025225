import Foundation
import Logging

/// What an informer reports: changes to the watched collection, and the end of each (re)list.
public enum InformerEvent: Sendable, Hashable {
    case added(KubeObject)
    case modified(KubeObject)
    case deleted(KubeObject)
    /// The consumer has now seen the whole collection as of `resourceVersion` (after the first list and every relist).
    case synced(resourceVersion: String)

    public var object: KubeObject? {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object): return object
        case .synced: return nil
        }
    }
}

/// Tuning of `listAndWatch`.
public struct InformerOptions: Sendable {
    public var labelSelector: LabelSelector?
    public var fieldSelector: String?
    /// Per watch request (spec §9.2: 300).
    public var watchTimeoutSeconds: Int
    /// Backoff after a failed list or watch, doubling from `initialBackoff` up to `maxBackoff`.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Give up (the sequence throws the last error) after this many failures in a row; `nil` retries forever.
    public var maxConsecutiveFailures: Int?

    public init(
        labelSelector: LabelSelector? = nil, fieldSelector: String? = nil, watchTimeoutSeconds: Int = 300,
        initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(30),
        maxConsecutiveFailures: Int? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxConsecutiveFailures = maxConsecutiveFailures
    }
}

extension KubeClient {
    /// An informer-like stream: lists, then watches from the list's resourceVersion with bookmarks, resumes from the
    /// last seen version when a watch ends, and relists when the server answers 410 Gone. A relist is reported as
    /// the differences to what the consumer saw (including `deleted` for objects that vanished meanwhile), followed by
    /// `synced`. It runs in the iterating task and stops when that task is cancelled.
    public func listAndWatch(_ resource: KubeResource, namespace: String?, options: InformerOptions = InformerOptions())
        -> InformerStream
    {
        InformerStream(client: self, resource: resource, namespace: namespace, options: options)
    }
}

public struct InformerStream: AsyncSequence, Sendable {
    public typealias Element = InformerEvent

    let client: KubeClient
    let resource: KubeResource
    let namespace: String?
    let options: InformerOptions

    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: InformerStream
        /// What the consumer has seen, by namespace/name: the basis for relist differences.
        var known: [String: KubeObject] = [:]
        var pending: [InformerEvent] = []
        var pendingIndex = 0
        var resourceVersion: String?
        var watch: WatchStream.Iterator?
        var watchOpened = ContinuousClock.now
        var watchDelivered = false
        var failures = 0

        init(stream: InformerStream) {
            self.stream = stream
        }

        public mutating func next() async throws -> InformerEvent? {
            while true {
                if pendingIndex < pending.count {
                    defer { pendingIndex += 1 }
                    return pending[pendingIndex]
                }
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                if Task.isCancelled { return nil }
                do {
                    if resourceVersion == nil {
                        try await relist()
                        // Start watching before handing out the snapshot, as informers do: events that happen
                        // while the consumer digests it queue up in the stream instead of aging in the history.
                        do {
                            try await openWatch()
                        } catch {
                            watch = nil
                        }
                    } else if watch == nil {
                        try await openWatch()
                    } else if let event = try await nextWatchEvent() {
                        return event
                    }
                } catch is CancellationError {
                    return nil
                } catch {
                    if Task.isCancelled { return nil }
                    do {
                        try await backOff(after: error)
                    } catch is CancellationError {
                        return nil
                    }
                }
            }
        }

        private mutating func relist() async throws {
            watch = nil
            let list = try await stream.client.list(
                stream.resource, namespace: stream.namespace, labelSelector: stream.options.labelSelector,
                fieldSelector: stream.options.fieldSelector)
            failures = 0
            var fresh: [String: KubeObject] = [:]
            for object in list.items {
                let key = Self.key(object)
                fresh[key] = object
                if let old = known[key] {
                    if old.uid != object.uid {
                        // Deleted and recreated while we were away: two different objects.
                        pending.append(.deleted(old))
                        pending.append(.added(object))
                    } else if old.resourceVersion != object.resourceVersion {
                        pending.append(.modified(object))
                    }
                } else {
                    pending.append(.added(object))
                }
            }
            for (key, old) in known.sorted(by: { $0.key < $1.key }) where fresh[key] == nil {
                pending.append(.deleted(old))
            }
            known = fresh
            resourceVersion = list.resourceVersion
            pending.append(.synced(resourceVersion: list.resourceVersion))
        }

        private mutating func openWatch() async throws {
            let options = WatchOptions(
                labelSelector: stream.options.labelSelector, fieldSelector: stream.options.fieldSelector,
                resourceVersion: resourceVersion, timeoutSeconds: stream.options.watchTimeoutSeconds,
                allowBookmarks: true)
            do {
                watch = try await stream.client.watch(stream.resource, namespace: stream.namespace, options: options)
                    .makeAsyncIterator()
                watchOpened = ContinuousClock.now
                watchDelivered = false
            } catch let error as KubeError where error.isGone {
                resourceVersion = nil
            }
        }

        /// The next event worth reporting, or `nil` when the watch ended or needs a relist (state updated).
        private mutating func nextWatchEvent() async throws -> InformerEvent? {
            // Move the iterator out while it is advanced, so its buffer is not copied on write; it goes back only
            // while the watch is healthy.
            guard var iterator = watch else { return nil }
            watch = nil
            guard let event = try await iterator.next() else {
                // A server that keeps closing watches at once (restarting, shutting down) must not make us spin.
                if !watchDelivered, ContinuousClock.now - watchOpened < .seconds(1) {
                    throw KubeError.transport("watch closed without any event")
                }
                // Normal end (timeoutSeconds): resume from the last version seen.
                failures = 0
                return nil
            }
            watch = iterator
            watchDelivered = true
            failures = 0
            switch event {
            case .added(let object), .modified(let object):
                let key = Self.key(object)
                let existed = known[key] != nil
                known[key] = object
                resourceVersion = object.resourceVersion ?? resourceVersion
                return existed ? .modified(object) : .added(object)
            case .deleted(let object):
                known[Self.key(object)] = nil
                resourceVersion = object.resourceVersion ?? resourceVersion
                return .deleted(object)
            case .bookmark(let version):
                if !version.isEmpty { resourceVersion = version }
                return nil
            case .error(let status):
                watch = nil
                if status.code == 410 {
                    stream.client.logger.debug("watch expired, relisting", metadata: ["resource": "\(stream.resource)"])
                    resourceVersion = nil
                    return nil
                }
                throw KubeError.fromHTTP(code: status.code ?? 500, status: status)
            }
        }

        private mutating func backOff(after error: any Error) async throws {
            failures += 1
            if let limit = stream.options.maxConsecutiveFailures, failures >= limit { throw error }
            let exponent = Swift.min(failures - 1, 16)
            let delay = Swift.min(stream.options.initialBackoff * (1 << exponent), stream.options.maxBackoff)
            stream.client.logger.warning("list/watch failed, retrying", metadata: [
                "resource": "\(stream.resource)", "error": "\(error)", "retryIn": "\(delay)",
            ])
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw CancellationError()
            }
        }

        private static func key(_ object: KubeObject) -> String {
            "\(object.namespace ?? "")/\(object.name)"
        }
    }
}
