import GRPCCore
import GRPCNIOTransportHTTP2
import NGHTTP2Transport

/// One client transport type for every gRPC client of ours, whichever engine carries it, so clients can be stored
/// and pooled as `GRPCClient<DataPathClientTransport>`. Messages are `H2Bytes`; the NIO fallback converts at the
/// boundary (a copy per message, the price of the fallback only).
public struct DataPathClientTransport: ClientTransport {
    public typealias Bytes = H2Bytes

    enum Engine: Sendable {
        case nghttp2(NGHTTP2ClientTransport)
        case nio(HTTP2ClientTransport.Posix)
    }

    let engine: Engine

    public var kind: GRPCTransportKind {
        switch engine {
        case .nghttp2: .nghttp2
        case .nio: .nio
        }
    }

    public var retryThrottle: RetryThrottle? {
        switch engine {
        case .nghttp2(let transport): transport.retryThrottle
        case .nio(let transport): transport.retryThrottle
        }
    }

    public func connect() async throws {
        switch engine {
        case .nghttp2(let transport): try await transport.connect()
        case .nio(let transport): try await transport.connect()
        }
    }

    public func beginGracefulShutdown() {
        switch engine {
        case .nghttp2(let transport): transport.beginGracefulShutdown()
        case .nio(let transport): transport.beginGracefulShutdown()
        }
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        switch engine {
        case .nghttp2(let transport): transport.config(forMethod: descriptor)
        case .nio(let transport): transport.config(forMethod: descriptor)
        }
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor,
        options: CallOptions,
        _ closure: (RPCStream<Inbound, Outbound>, ClientContext) async throws -> T
    ) async throws -> T {
        switch engine {
        case .nghttp2(let transport):
            return try await transport.withStream(descriptor: descriptor, options: options, closure)
        case .nio(let transport):
            return try await transport.withStream(descriptor: descriptor, options: options) { stream, context in
                let inbound = RPCAsyncSequence<RPCResponsePart<H2Bytes>, any Error>(
                    wrapping: stream.inbound.map { part in part.converted() })
                let outbound = RPCWriter<RPCRequestPart<H2Bytes>>.Closable(
                    wrapping: ConvertingWriter(base: stream.outbound))
                return try await closure(RPCStream(descriptor: stream.descriptor, inbound: inbound, outbound: outbound), context)
            }
        }
    }
}

/// Request parts written as `H2Bytes`, forwarded to a transport with other bytes.
private struct ConvertingWriter<Target: GRPCContiguousBytes & Sendable>: ClosableRPCWriterProtocol {
    let base: RPCWriter<RPCRequestPart<Target>>.Closable

    func write(_ element: RPCRequestPart<H2Bytes>) async throws {
        try await base.write(element.converted())
    }

    func write(contentsOf elements: some Sequence<RPCRequestPart<H2Bytes>>) async throws {
        try await base.write(contentsOf: elements.map { $0.converted() })
    }

    func finish() async {
        await base.finish()
    }

    func finish(throwing error: any Error) async {
        await base.finish(throwing: error)
    }
}

extension GRPCContiguousBytes {
    func converted<Other: GRPCContiguousBytes>() -> Other {
        withUnsafeBytes { Other($0) }
    }
}

extension RPCRequestPart {
    func converted<Other: GRPCContiguousBytes>() -> RPCRequestPart<Other> {
        switch self {
        case .metadata(let metadata): .metadata(metadata)
        case .message(let bytes): .message(bytes.converted())
        }
    }
}

extension RPCResponsePart {
    func converted<Other: GRPCContiguousBytes>() -> RPCResponsePart<Other> {
        switch self {
        case .metadata(let metadata): .metadata(metadata)
        case .message(let bytes): .message(bytes.converted())
        case .status(let status, let metadata): .status(status, metadata)
        }
    }
}
