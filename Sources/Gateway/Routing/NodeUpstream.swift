import OaaSCore

/// The three data-plane services of one ODGM node, as the gateway calls them.
public struct NodeUpstream: Sendable {
    public let store: any ObjectStore
    public let invoker: any Invoker
    public let asyncInvoker: any AsyncInvoker

    public init(store: any ObjectStore, invoker: any Invoker, asyncInvoker: any AsyncInvoker) {
        self.store = store
        self.invoker = invoker
        self.asyncInvoker = asyncInvoker
    }
}

/// Hands out the upstream of a node address (one pooled connection per address).
public protocol NodeConnector: Sendable {
    func upstream(for address: String) throws(OaaSError) -> NodeUpstream
}
