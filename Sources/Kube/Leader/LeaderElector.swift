import Foundation
import Logging
import Synchronization

/// Lease-based leader election (control-plane spec §9.3) on a `coordination.k8s.io/v1` Lease.
///
/// Acquire when the Lease is absent, released (empty holder) or expired (`renewTime + leaseDurationSeconds < now`);
/// every write is an update guarded by the Lease's resourceVersion, so two candidates can never both win. The leader
/// renews every `retryPeriod`; if it cannot renew within `renewDeadline` it reports the loss and contends again.
/// Cancelling `run()` releases the Lease (empty holder) so a successor need not wait for expiry.
public final class LeaderElector: Sendable {
    public struct Configuration: Sendable {
        public var namespace: String
        public var leaseName: String
        /// Unique per process: `POD_NAME_xxxxxx` (see `makeIdentity(podName:)`).
        public var identity: String
        /// Written as whole seconds (at least 1), as the Lease field is an integer.
        public var leaseDuration: Duration
        public var renewDeadline: Duration
        public var retryPeriod: Duration

        public init(
            namespace: String, leaseName: String = "oaas-crm-leader", identity: String,
            leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
            retryPeriod: Duration = .seconds(2)
        ) {
            self.namespace = namespace
            self.leaseName = leaseName
            self.identity = identity
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
        }

        var leaseDurationSeconds: Int64 {
            let (seconds, attoseconds) = leaseDuration.components
            return max(1, seconds + (attoseconds > 0 ? 1 : 0))
        }
    }

    public let configuration: Configuration
    let client: KubeClient
    let logger: Logger
    /// Wall clock for Lease timestamps and expiry (they are compared with other processes' clocks).
    let now: @Sendable () -> Date
    let sleep: @Sendable (Duration) async throws -> Void

    private struct State {
        var isLeader = false
        var subscribers: [Int: AsyncStream<Bool>.Continuation] = [:]
        var nextSubscriber = 0
        var finished = false
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - clock: paces retries and renewals; tests may inject a faster or manual clock.
    ///   - now: the wall clock used for `renewTime`/`acquireTime` and expiry decisions.
    public init(
        client: KubeClient, configuration: Configuration, logger: Logger = Logger(label: "oaas.kube.leader"),
        clock: some Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.now = now
        self.sleep = { duration in try await clock.sleep(for: duration) }
    }

    /// `podName` + `_` + six random lower-case alphanumerics (spec §9.3).
    public static func makeIdentity(podName: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let suffix = String((0..<6).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
        return "\(podName)_\(suffix)"
    }

    public var isLeader: Bool { state.withLock { $0.isLeader } }

    /// The current leadership first, then every change; finishes when `run()` returns.
    public func leadershipUpdates() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream<Bool>.makeStream(bufferingPolicy: .unbounded)
        let id: Int? = state.withLock { state in
            guard !state.finished else { return nil }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            continuation.yield(state.isLeader)
            return id
        }
        guard let id else {
            continuation.yield(false)
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Contends, leads and re-contends until the calling task is cancelled; then releases the Lease if held.
    public func run() async {
        defer { finish() }
        while !Task.isCancelled {
            guard await acquire() else { break }
            setLeader(true)
            logger.info("became leader", metadata: ["lease": "\(configuration.leaseName)",
                                                   "identity": "\(configuration.identity)"])
            await renewWhileLeading()
            setLeader(false)
            if Task.isCancelled { break }
            logger.warning("lost leadership, contending again", metadata: ["lease": "\(configuration.leaseName)"])
        }
        await releaseIfHeld()
    }

    // MARK: Loop phases

    /// Tries every `retryPeriod` until the Lease is ours; `false` when cancelled first.
    private func acquire() async -> Bool {
        while !Task.isCancelled {
            if (try? await tryAcquireOrRenew()) == .holding { return true }
            do { try await sleep(configuration.retryPeriod) } catch { return false }
        }
        return false
    }

    /// Renews every `retryPeriod` until a renewal has failed for `renewDeadline`, someone else holds the Lease, or
    /// the task is cancelled.
    private func renewWhileLeading() async {
        var lastRenewal = now()
        while !Task.isCancelled {
            do { try await sleep(configuration.retryPeriod) } catch { return }
            do {
                switch try await tryAcquireOrRenew() {
                case .holding:
                    lastRenewal = now()
                    continue
                case .heldByOther:
                    // We were too slow and someone took over: no point waiting for the deadline.
                    return
                case .lostRace:
                    // Someone else wrote the Lease meanwhile (maybe just an annotation): retry until the deadline.
                    break
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("lease renewal failed", metadata: ["error": "\(error)"])
            }
            if now().timeIntervalSince(lastRenewal) >= configuration.renewDeadline.seconds { return }
        }
    }

    enum Attempt: Equatable {
        /// The Lease is ours (acquired or renewed).
        case holding
        /// Someone else holds a Lease that has not expired.
        case heldByOther
        /// Our write lost to a concurrent one (409 on the resourceVersion).
        case lostRace
    }

    /// One acquire-or-renew attempt. Throws on transport/server errors (the caller decides whether the renew
    /// deadline has passed).
    func tryAcquireOrRenew() async throws -> Attempt {
        let current = now()
        let leases = KubeResource.leases
        guard let lease = try await client.getIfPresent(leases, namespace: configuration.namespace,
                                                          name: configuration.leaseName)
        else {
            var object = KubeObject(leases, name: configuration.leaseName, namespace: configuration.namespace)
            object.spec = spec(holder: configuration.identity, acquired: current, renewed: current, transitions: 0)
            do {
                try await client.create(leases, object)
                return .holding
            } catch let error as KubeError where error.isConflict {
                return .lostRace
            }
        }
        let holder = lease.value(at: "spec", "holderIdentity")?.stringValue ?? ""
        let transitions = lease.value(at: "spec", "leaseTransitions")?.intValue ?? 0
        if !holder.isEmpty, holder != configuration.identity, !isExpired(lease, at: current) {
            return .heldByOther
        }
        var updated = lease
        if holder == configuration.identity {
            let acquired = lease.value(at: "spec", "acquireTime")?.stringValue.flatMap(KubeTime.parse) ?? current
            updated.spec = spec(holder: holder, acquired: acquired, renewed: current, transitions: transitions)
        } else {
            updated.spec = spec(holder: configuration.identity, acquired: current, renewed: current,
                                transitions: transitions + 1)
        }
        do {
            try await client.replace(leases, updated)
            return .holding
        } catch let error as KubeError where error.isConflict {
            return .lostRace
        }
    }

    /// Empties the holder when the Lease is still ours (checked on the server: a renewal may have landed after we
    /// gave up), so the next candidate need not wait for expiry.
    private func releaseIfHeld() async {
        let client = self.client
        let configuration = self.configuration
        let now = self.now
        let logger = self.logger
        // The calling task is cancelled, which would abort the HTTP call: run the release in its own task and wait.
        await Task {
            do {
                guard var lease = try await client.getIfPresent(.leases, namespace: configuration.namespace,
                                                                  name: configuration.leaseName),
                      lease.value(at: "spec", "holderIdentity")?.stringValue == configuration.identity
                else { return }
                lease.setValue("", at: "spec", "holderIdentity")
                lease.setValue(.string(KubeTime.formatMicro(now())), at: "spec", "renewTime")
                try await client.replace(.leases, lease)
                logger.info("released leadership", metadata: ["lease": "\(configuration.leaseName)"])
            } catch {
                logger.warning("could not release lease", metadata: ["error": "\(error)"])
            }
        }.value
    }

    // MARK: Helpers

    private func isExpired(_ lease: KubeObject, at current: Date) -> Bool {
        guard let renewed = lease.value(at: "spec", "renewTime")?.stringValue.flatMap(KubeTime.parse) else {
            return true
        }
        let duration = lease.value(at: "spec", "leaseDurationSeconds")?.intValue ?? configuration.leaseDurationSeconds
        return renewed.addingTimeInterval(TimeInterval(duration)) < current
    }

    private func spec(holder: String, acquired: Date, renewed: Date, transitions: Int64) -> JSONValue {
        [
            "holderIdentity": .string(holder),
            "leaseDurationSeconds": .int(configuration.leaseDurationSeconds),
            "acquireTime": .string(KubeTime.formatMicro(acquired)),
            "renewTime": .string(KubeTime.formatMicro(renewed)),
            "leaseTransitions": .int(transitions),
        ]
    }

    private func setLeader(_ leading: Bool) {
        state.withLock { state in
            guard state.isLeader != leading else { return }
            state.isLeader = leading
            for continuation in state.subscribers.values { continuation.yield(leading) }
        }
    }

    private func finish() {
        let subscribers = state.withLock { state -> [AsyncStream<Bool>.Continuation] in
            state.finished = true
            state.isLeader = false
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
