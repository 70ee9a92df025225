import Foundation
import GRPCCore
import Kube
import Logging
import Metrics
import OaaSCore
import Synchronization

/// What every CRM gRPC service shares: configuration, the Kubernetes client, API-server health, discovery, the
/// request counter, and the one request wrapper (deadline, correlation id, error mapping, metric, log).
final class CRMServiceContext: Sendable {
    static let correlationHeader = "x-correlation-id"

    let config: CRMConfig
    let client: KubeClient
    let health: APIServerHealth
    let discovery: ClusterDiscovery
    let logger: Logger
    private let counters = Mutex<[String: Counter]>([:])

    init(config: CRMConfig, client: KubeClient, health: APIServerHealth, discovery: ClusterDiscovery, logger: Logger) {
        self.config = config
        self.client = client
        self.health = health
        self.discovery = discovery
        self.logger = logger
    }

    /// One request as the handlers see it.
    struct Call: Sendable {
        let method: String
        let correlationId: String
        let deadline: RequestDeadline
        let logger: Logger
        let context: CRMServiceContext

        /// A Kubernetes call bounded per §8.1; its outcome feeds the API-server health.
        func kube<T: Sendable>(_ what: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
            do {
                let result = try await deadline.call(what, operation)
                context.health.recordAnswer()
                return result
            } catch {
                context.health.record(error)
                throw error
            }
        }
    }

    /// Runs a unary handler: refuses it without side effects when < 50 ms remain, echoes `x-correlation-id` (taken
    /// from the request, else generated) on success and failure, maps every failure to the §8.1 status, counts
    /// `crm_grpc_requests_total{method,code}` and logs with the correlation id.
    func serve<Response: Sendable>(
        _ method: String, _ metadata: Metadata, _ body: (Call) async throws -> Response
    ) async throws -> ServerResponse<Response> {
        let correlationId = metadata[stringValues: Self.correlationHeader].first(where: { !$0.isEmpty })
            ?? UUID().uuidString.lowercased()
        var logger = self.logger
        logger[metadataKey: "correlation_id"] = "\(correlationId)"
        logger[metadataKey: "rpc"] = "\(method)"
        let deadline = RequestDeadline(metadata: metadata, callTimeout: config.timings.kubeCallTimeout)
        var responseMetadata = Metadata()
        responseMetadata.addString(correlationId, forKey: Self.correlationHeader)
        do {
            try deadline.requireAtLeast(config.timings.minimumDeadline)
            let message = try await body(Call(method: method, correlationId: correlationId, deadline: deadline,
                                              logger: logger, context: self))
            count(method, "OK")
            logger.debug("rpc ok")
            return ServerResponse(message: message, metadata: responseMetadata)
        } catch {
            let failure = CRMError.from(error, method)
            count(method, OaaSError.name(of: failure.rpcCode))
            logger.log(level: Self.logLevel(failure), "rpc failed", metadata: ["error": "\(failure)"])
            var rpcError = failure.rpcError
            rpcError.metadata.addString(correlationId, forKey: Self.correlationHeader)
            throw rpcError
        }
    }

    func count(_ method: String, _ code: String) {
        let counter = counters.withLock { cache in
            let key = method + "|" + code
            if let existing = cache[key] { return existing }
            let made = Counter(label: "crm_grpc_requests_total", dimensions: [("method", method), ("code", code)])
            cache[key] = made
            return made
        }
        counter.increment()
    }

    private static func logLevel(_ error: CRMError) -> Logger.Level {
        switch error {
        case .internalError, .unavailable, .permissionDenied: .warning
        default: .info
        }
    }
}
