import GRPCCore
import GRPCNIOTransportHTTP2
import OaaSProto

/// A client for object state over `oprc.DataService` at `ODGM_SERVICE` (data-plane spec §10).
///
/// Each invocation gets its own copy, bound to the invocation's context: every call carries the
/// invocation's `oaas-trigger-depth`, `traceparent`, `tracestate` and `oaas-invocation-id`, and is
/// bounded by what is left of the invocation's deadline. All copies share the app's one pooled
/// `GRPCClient`. Use ``object(cls:partition:id:)`` to reach any object of any class.
public struct ObjectClient: Sendable {
    typealias Service = Oprc_DataService.Client<HTTP2ClientTransport.Posix>

    /// The shared DataService client and its message size limit.
    struct Connection: Sendable {
        let service: Service
        let maxMessageBytes: Int
    }

    let connection: Connection?
    let context: CallMetadata

    init(connection: Connection?, context: CallMetadata) {
        self.connection = connection
        self.context = context
    }

    /// A handle on one object; nothing is sent until you call one of its methods.
    public func object(cls: String, partition: UInt32, id: ObjectID) -> ObjectHandle {
        ObjectHandle(client: self, cls: cls, partition: partition, id: id)
    }

    /// Time left before the invocation's deadline, nil when the caller set none.
    public var remainingTime: Duration? {
        context.deadline.map { ContinuousClock.now.duration(to: $0) }
    }

    /// Runs one call with the invocation's metadata and remaining deadline, turning failures into
    /// ``DataServiceError``s named after `operation`.
    func call<T: Sendable>(
        _ operation: @autoclosure () -> String,
        _ body: (Service, Metadata, CallOptions) async throws -> T
    ) async throws -> T {
        guard let connection else {
            throw DataServiceError(
                operation: operation(), code: .unavailable,
                message: "ODGM_SERVICE is not set, so this runtime has no DataService endpoint for object state"
            )
        }
        var options = CallOptions.defaults
        // Fail fast while ODGM is unreachable instead of queueing until a deadline that may never come.
        options.waitForReady = false
        options.maxRequestMessageBytes = connection.maxMessageBytes
        options.maxResponseMessageBytes = connection.maxMessageBytes
        if let remaining = remainingTime {
            guard remaining > .zero else {
                throw DataServiceError(
                    operation: operation(), code: .deadlineExceeded,
                    message: "the invocation's deadline passed before the call was sent"
                )
            }
            options.timeout = remaining
        }
        do {
            return try await body(connection.service, context.outgoing, options)
        } catch let error as RPCError {
            throw DataServiceError(operation: operation(), rpcError: error)
        }
    }
}
