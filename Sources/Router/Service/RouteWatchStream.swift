import GRPCCore
import OaaSProto
import ServiceLifecycle

/// One WatchRoutes stream (spec §7.1): the current table at once, then a new one after each change that alters
/// what this watcher sees, at most one per `interval`. Changes during the wait collapse into one table.
/// The stream ends when the client goes away or the server begins a graceful shutdown (it would otherwise wait for
/// this never-ending call).
struct RouteWatchStream {
    let hub: RouteHub
    let clsID: String?
    let localOnly: Bool
    let interval: Duration

    init(hub: RouteHub, request: Oaas_Router_WatchRoutesRequest, interval: Duration) {
        self.hub = hub
        self.clsID = request.hasClsID ? request.clsID : nil
        self.localOnly = request.localOnly
        self.interval = interval
    }

    func run(writer: RPCWriter<Oaas_Router_RouteTable>) async throws {
        let (id, changes, continuation) = await hub.watch()
        do {
            try await stream(changes, continuation, writer)
        } catch {
            await hub.unwatch(id)
            throw error
        }
        await hub.unwatch(id)
    }

    private func stream(_ changes: AsyncStream<Void>, _ continuation: AsyncStream<Void>.Continuation,
                        _ writer: RPCWriter<Oaas_Router_RouteTable>) async throws {
        try await withGracefulShutdownHandler {
            try await withRPCCancellationHandler {
                try await send(changes, writer)
            } onCancelRPC: {
                continuation.finish()
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
    }

    private func send(_ changes: AsyncStream<Void>, _ writer: RPCWriter<Oaas_Router_RouteTable>) async throws {
        var sent = await hub.table(clsID: clsID, localOnly: localOnly)
        try await writer.write(sent)
        var sentAt = ContinuousClock.now
        for await _ in changes {
            let wait = sentAt + interval - .now
            if wait > .zero { try? await Task.sleep(for: wait) }
            let table = await hub.table(clsID: clsID, localOnly: localOnly)
            // Another class changed, or only the peers' part when local_only: nothing new for this watcher.
            guard table.collections != sent.collections else { continue }
            try await writer.write(table)
            sent = table
            sentAt = .now
        }
    }
}
