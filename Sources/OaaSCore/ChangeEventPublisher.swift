import OaaSProto

/// Where ODGM sends the change event of each committed mutation (data-plane spec §6.5): the router's `Publish`
/// on a cluster, an in-process feed under `oaas dev`. Publishing is at most once and must never hold up the
/// write path, so `publish` does not wait for delivery.
public protocol ChangeEventPublisher: Sendable {
    func publish(_ event: Oaas_Router_ObjectChangeEvent)
}

/// Drops every event (event publishing off, or no router configured).
public struct DiscardingChangeEventPublisher: ChangeEventPublisher {
    public init() {}
    public func publish(_ event: Oaas_Router_ObjectChangeEvent) {}
}
