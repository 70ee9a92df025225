import GRPCCore
import GRPCTransports
import GRPCNIOTransportHTTP2
import Logging
import OaaSCore
import OaaSProto
import RouterClient
import ServiceLifecycle
import Synchronization

/// One gRPC client per ODGM address, created on first use and run by this service. After each route table, the
/// clients of addresses that left it are shut down (except `keep`, e.g. DEFAULT_ODGM_URL).
public final class ODGMClientPool: NodeConnector, Service, Sendable {
    typealias Client = GRPCClient<DataPathClientTransport>

    private let tables: @Sendable () -> AsyncStream<Oaas_Router_RouteTable>
    private let keep: Set<String>
    private let logger: Logger
    private let state = Mutex<State>(State())
    private let started: AsyncStream<Client>
    private let start: AsyncStream<Client>.Continuation

    private struct State {
        var nodes: [String: (client: Client, upstream: NodeUpstream)] = [:]
        var closed = false
    }

    /// - Parameter tables: the route tables to prune by (`RouteWatcher.updates`).
    public init(tables: @escaping @Sendable () -> AsyncStream<Oaas_Router_RouteTable>, keep: Set<String> = [], logger: Logger) {
        self.tables = tables
        self.keep = keep
        self.logger = logger
        (started, start) = AsyncStream<Client>.makeStream()
    }

    public func upstream(for address: String) throws(OaaSError) -> NodeUpstream {
        guard let endpoint = GRPCEndpoint(url: address) else {
            throw OaaSError(.unavailable, "node address '\(address)' is not an http://host:port URL")
        }
        return try state.withLock { state throws(OaaSError) -> NodeUpstream in
            if let existing = state.nodes[address] { return existing.upstream }
            guard !state.closed else { throw OaaSError(.unavailable, "gateway is shutting down") }
            let client: Client
            do {
                client = try endpoint.makeClient()
            } catch {
                throw OaaSError(.unavailable, "cannot connect to \(address): \(error)")
            }
            let upstream = NodeUpstream(store: RemoteObjectStore(client: client), invoker: RemoteInvoker(client: client),
                                        asyncInvoker: RemoteAsyncInvoker(client: client))
            state.nodes[address] = (client, upstream)
            start.yield(client)
            return upstream
        }
    }

    var addresses: Set<String> { state.withLock { Set($0.nodes.keys) } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await table in self.tables() {
                        self.prune(keeping: Self.addresses(in: table).union(self.keep))
                    }
                }
                for await client in started {
                    group.addTask {
                        do {
                            try await client.runConnections()
                        } catch {
                            self.logger.debug("ODGM client stopped", metadata: ["error": "\(error)"])
                        }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.close()
        }
    }

    static func addresses(in table: Oaas_Router_RouteTable) -> Set<String> {
        Set(table.collections.flatMap { $0.partitions.flatMap { $0.shards.map(\.address) } })
    }

    private func prune(keeping addresses: Set<String>) {
        let stale = state.withLock { state in
            let stale = state.nodes.filter { !addresses.contains($0.key) }
            for key in stale.keys { state.nodes[key] = nil }
            return stale.values.map(\.client)
        }
        for client in stale { client.beginGracefulShutdown() }
    }

    private func close() {
        let clients = state.withLock { state in
            state.closed = true
            defer { state.nodes = [:] }
            return state.nodes.values.map(\.client)
        }
        start.finish()
        for client in clients { client.beginGracefulShutdown() }
    }
}
