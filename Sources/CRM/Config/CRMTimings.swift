/// Every delay the CRM controller and services use. The env-backed ones come from `CRMConfig(env:)`; the rest are the
/// spec's fixed values (§9.4 requeue schedule, §9.5 dedup window, §8.3 health window). All are `var` so tests can run
/// the whole state machine in seconds.
public struct CRMTimings: Sendable, Equatable {
    /// `OPRC_CRM_PROGRESS_DEADLINE_SECS`: a child not ready this long after `progressing_since` ⇒ Degraded `Timeout`.
    public var progressDeadline: Duration = .seconds(600)
    /// `OPRC_CRM_DELETE_TIMEOUT_SECS`: after this the finalizer goes anyway (`DeleteTimeout`).
    public var deleteTimeout: Duration = .seconds(300)
    /// `OPRC_CRM_RESYNC_SECS`: every CR is re-applied (all children, hash or not) this often.
    public var resync: Duration = .seconds(600)
    /// `OPRC_CRM_K8S_CALL_TIMEOUT_SECS`: upper bound of one Kubernetes call.
    public var kubeCallTimeout: Duration = .seconds(10)

    /// `OPRC_CRM_LEASE_DURATION_SECS` / `_RENEW_DEADLINE_SECS` / `_RETRY_PERIOD_SECS` (§9.3).
    public var leaseDuration: Duration = .seconds(15)
    public var renewDeadline: Duration = .seconds(10)
    public var retryPeriod: Duration = .seconds(2)

    /// Requeue while applying or progressing (§9.4 step 8).
    public var progressingRequeue: Duration = .seconds(10)
    /// Requeue of a degraded CR: starts here, doubles up to `maxBackoff`.
    public var degradedRequeue: Duration = .seconds(5)
    /// Requeue after a failed reconcile (API errors): starts here, doubles up to `maxBackoff`.
    public var errorRequeue: Duration = .seconds(1)
    public var maxBackoff: Duration = .seconds(300)
    /// Requeue while waiting for children to go during deletion (§9.6).
    public var deletionRequeue: Duration = .seconds(2)
    /// How often Knative presence is re-discovered (§9.1).
    public var knativeRecheck: Duration = .seconds(300)
    /// Same (reason, message) inside this window only bumps the Event's count (§9.5).
    public var eventDedupWindow: Duration = .seconds(600)
    /// HealthService reports SERVING while the API server answered within this window (§8.3).
    public var apiHealthWindow: Duration = .seconds(10)
    /// How often the API server is pinged to keep `apiHealthWindow` fresh when nothing else calls it.
    public var apiHealthProbe: Duration = .seconds(3)
    /// Calls with less than this left on their deadline are refused without side effects (§8.1).
    public var minimumDeadline: Duration = .milliseconds(50)

    public init() {}
}
