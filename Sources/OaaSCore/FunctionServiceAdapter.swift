import GRPCCore
import OaaSProto

/// Serves `oprc.OprcFunction` over gRPC from any ``Invoker`` (spec §5.1): reads the call context,
/// including the caller's deadline, from the metadata and turns ``OaaSError``s into statuses that
/// carry their REST code (§4.6). A function's own failure is a response, never a status.
public struct FunctionServiceAdapter: Oprc_OprcFunction.ServiceProtocol {
    public let invoker: any Invoker

    public init(invoker: any Invoker) {
        self.invoker = invoker
    }

    public func invokeFn(request: ServerRequest<Oprc_InvocationRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_InvocationResponse> {
        do {
            let call = CallContext(incoming: request.metadata)
            return ServerResponse(message: try await invoker.invokeFn(request.message, context: call))
        } catch {
            throw OaaSError.from(error).rpcError
        }
    }

    public func invokeObj(request: ServerRequest<Oprc_ObjectInvocationRequest>, context: ServerContext) async throws -> ServerResponse<Oprc_InvocationResponse> {
        do {
            let call = CallContext(incoming: request.metadata)
            return ServerResponse(message: try await invoker.invokeObj(request.message, context: call))
        } catch {
            throw OaaSError.from(error).rpcError
        }
    }
}

extension CallContext {
    /// The context of an incoming call, with the deadline taken from `grpc-timeout` (spec §5.4).
    ///
    /// grpc-swift 2 enforces `grpc-timeout` on the server by cancelling the handler but does not
    /// hand the deadline to it, and the transport keeps the header in the request metadata; so
    /// the remaining time is read from there, counted from when the handler starts.
    public init(incoming metadata: Metadata, now: ContinuousClock.Instant = .now) {
        self.init(metadata: metadata)
        if let raw = metadata[stringValues: GRPCTimeout.metadataKey].first(where: { _ in true }),
           let timeout = GRPCTimeout.parse(raw) {
            deadline = now + timeout
        }
    }
}

/// The `grpc-timeout` header: 1–8 ASCII digits followed by a unit (`H`, `M`, `S`, `m`, `u`, `n`).
public enum GRPCTimeout {
    public static let metadataKey = "grpc-timeout"

    /// The duration of a `grpc-timeout` value; nil when malformed.
    public static func parse(_ value: String) -> Duration? {
        let utf8 = Array(value.utf8)
        guard utf8.count >= 2, utf8.count <= 9, let unit = utf8.last else { return nil }
        var amount: Int64 = 0
        for byte in utf8.dropLast() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }
}
