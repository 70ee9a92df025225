import GRPCCore
import GRPCTransports

/// Runs `body` with `count` gRPC clients to `127.0.0.1:port` on `transport`, one HTTP/2 connection each, and
/// shuts them down after, whether `body` succeeded or not.
func withGRPCConnections<T: Sendable>(
    port: Int, count: Int, transport: GRPCTransportKind,
    _ body: @Sendable ([GRPCClient<DataPathClientTransport>]) async throws -> T
) async throws -> T {
    var clients: [GRPCClient<DataPathClientTransport>] = []
    for _ in 0..<count {
        clients.append(GRPCClient(transport: try DataPathClientTransport.make(host: "127.0.0.1", port: port, kind: transport)))
    }
    let connections = clients
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        for client in connections {
            group.addTask { try await client.runConnections() }
        }
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body(connections))
        } catch {
            outcome = .failure(error)
        }
        for client in connections { client.beginGracefulShutdown() }
        try await group.waitForAll()
        return try outcome.get()
    }
}
