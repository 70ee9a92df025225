import GRPCCore
import Kube
import OaaSCore

/// The deadline of one gRPC request (control-plane spec §8.1): taken from `grpc-timeout` on arrival; each Kubernetes
/// call made for the request is bounded by min(remaining, `OPRC_CRM_K8S_CALL_TIMEOUT_SECS`).
struct RequestDeadline: Sendable {
    typealias Instant = ContinuousClock.Instant

    /// `nil` when the caller set no deadline.
    let deadline: Instant?
    let callTimeout: Duration

    init(metadata: Metadata, callTimeout: Duration, now: Instant = .now) {
        self.deadline = Self.timeout(in: metadata).map { now + $0 }
        self.callTimeout = callTimeout
    }

    var remaining: Duration? { deadline.map { ContinuousClock.now.duration(to: $0) } }

    /// Refuses a request that arrives with less than `minimum` left, before it has any side effect.
    func requireAtLeast(_ minimum: Duration) throws(CRMError) {
        if let remaining, remaining < minimum {
            throw .deadlineExceeded("the request deadline leaves \(Self.milliseconds(remaining)) ms (< \(Self.milliseconds(minimum)) ms)")
        }
    }

    /// Runs one Kubernetes call bounded by the per-call timeout and the request deadline. Kubernetes failures become
    /// the §8.1 gRPC errors (`notFound` is left to the caller through `KubeError`); running out of request time is
    /// DEADLINE_EXCEEDED, a slow API server within the request time is UNAVAILABLE.
    func call<T: Sendable>(_ what: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit: Duration
        let byDeadline: Bool
        if let remaining, remaining < callTimeout {
            guard remaining > .zero else { throw CRMError.deadlineExceeded("deadline passed before \(what)") }
            limit = remaining
            byDeadline = true
        } else {
            limit = callTimeout
            byDeadline = false
        }
        let result: T? = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let result else {
            if byDeadline { throw CRMError.deadlineExceeded("deadline exceeded during \(what)") }
            throw CRMError.unavailable("kubernetes did not answer \(what) within \(callTimeout)")
        }
        return result
    }

    /// The caller's `grpc-timeout`; nil when absent or malformed.
    static func timeout(in metadata: Metadata) -> Duration? {
        metadata[stringValues: "grpc-timeout"].first(where: { _ in true }).flatMap(GRPCTimeout.parse)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
