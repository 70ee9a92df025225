import GRPCCore
import GRPCTransports
import GRPCNIOTransportHTTP2
import Logging
import OaaSCore
import RouterClient
import ServiceLifecycle
import Synchronization

/// One gRPC client per ODGM address, created on first use and run by this service; clients of addresses that left
/// the route table are shut down.
final class NodeClientPool: Service, Sendable {
    typealias Client = GRPCClient<DataPathClientTransport>

    private let hub: RouteHub
    private let logger: Logger
    private let state = Mutex<State>(State())
    private let started: AsyncStream<Client>
    private let start: AsyncStream<Client>.Continuation

    private struct State {
        var clients: [String: Client] = [:]
        var closed = false
    }

    init(hub: RouteHub, logger: Logger) {
        self.hub = hub
        self.logger = logger
        (started, start) = AsyncStream<Client>.makeStream()
    }

    /// The client for `address`. Calls on a new client wait until `run()` has started its connections.
    func client(for address: String) throws(OaaSError) -> Client {
        guard let endpoint = GRPCEndpoint(url: address) else {
            throw OaaSError(.unavailable, "node address '\(address)' is not an http://host:port URL")
        }
        return try state.withLock { state throws(OaaSError) -> Client in
            if let existing = state.clients[address] { return existing }
            guard !state.closed else { throw OaaSError(.unavailable, "router is shutting down") }
            let client: Client
            do {
                client = try endpoint.makeClient()
            } catch {
                throw OaaSError(.unavailable, "cannot connect to \(address): \(error)")
            }
            state.clients[address] = client
            start.yield(client)
            return client
        }
    }

    var count: Int { state.withLock { $0.clients.count } }

    func run() async throws {
        let (_, changes, continuation) = await hub.watch()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    // Close clients whose node left the table (after each change).
                    for await _ in changes {
                        self.prune(keeping: await self.hub.snapshot.addresses)
                    }
                }
                for await client in started {
                    group.addTask {
                        do {
                            try await client.runConnections()
                        } catch {
                            self.logger.debug("node client stopped", metadata: ["error": "\(error)"])
                        }
                    }
                }
                continuation.finish()
            }
        } onGracefulShutdown: {
            self.close()
            continuation.finish()
        }
    }

    private func prune(keeping addresses: Set<String>) {
        let stale = state.withLock { state in
            let stale = state.clients.filter { !addresses.contains($0.key) }
            for key in stale.keys { state.clients[key] = nil }
            return Array(stale.values)
        }
        for client in stale { client.beginGracefulShutdown() }
    }

    private func close() {
        let clients = state.withLock { state in
            state.closed = true
            let clients = Array(state.clients.values)
            state.clients = [:]
            return clients
        }
        start.finish()
        for client in clients { client.beginGracefulShutdown() }
    }
}
