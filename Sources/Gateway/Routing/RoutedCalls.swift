import OaaSCore

/// Runs one call on the node the route table names, with the gateway's retry rules (spec §8.1 RETRY_*): an
/// idempotent call that answers UNAVAILABLE is retried, each time on the node the table names then; any other call
/// is retried only when the table moved the partition to another node meanwhile (the route was stale, so the
/// call never reached the owner).
struct RoutedCalls: Sendable {
    let resolver: RouteResolver
    let nodes: any NodeConnector
    let retryAttempts: Int
    let retryBackoff: Duration

    func run<T: Sendable>(_ clsID: String, _ partitionID: UInt32, _ purpose: RouteResolver.Purpose, idempotent: Bool,
                          context: CallContext, _ body: (NodeUpstream) async throws -> T) async throws -> T {
        var retriesLeft = max(0, retryAttempts)
        var address = try resolver.address(clsID: clsID, partitionID: partitionID, purpose: purpose)
        while true {
            do {
                return try await body(try nodes.upstream(for: address))
            } catch let error as OaaSError where error.code == .unavailable && retriesLeft > 0 {
                if let deadline = context.deadline, ContinuousClock.now + retryBackoff >= deadline { throw error }
                retriesLeft -= 1
                try await Task.sleep(for: retryBackoff)
                guard let next = try? resolver.address(clsID: clsID, partitionID: partitionID, purpose: purpose) else { throw error }
                if !idempotent && next == address { throw error }
                address = next
            }
        }
    }
}
