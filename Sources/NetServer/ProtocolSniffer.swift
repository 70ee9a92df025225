import NIOCore

/// First handler of every accepted connection: reads just enough bytes to tell an HTTP/2
/// prior-knowledge connection (gRPC) from HTTP/1.1 (REST), then lets `decide` configure the
/// rest of the pipeline and replays the bytes it held back.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Kind {
        case http2
        case http1
    }

    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private var buffered: ByteBuffer?
    private var decided = false
    private let decide: (Kind, ChannelHandlerContext) throws -> Void

    init(decide: @escaping (Kind, ChannelHandlerContext) throws -> Void) {
        self.decide = decide
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if decided {
            context.fireChannelRead(data)
            return
        }
        if buffered == nil {
            buffered = incoming
        } else {
            buffered?.writeBuffer(&incoming)
        }
        guard let bytes = buffered, let kind = classify(bytes) else { return }
        decided = true
        do {
            try decide(kind, context)
        } catch {
            context.close(promise: nil)
            return
        }
        buffered = nil
        // The handlers just added never saw channelActive (the connection was already up); the
        // HTTP/2 stream multiplexer only activates streams once it has.
        context.fireChannelActive()
        context.fireChannelRead(wrapInboundOut(bytes))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func classify(_ bytes: ByteBuffer) -> Kind? {
        let count = min(bytes.readableBytes, Self.preface.count)
        guard let view = bytes.getBytes(at: bytes.readerIndex, length: count) else { return nil }
        for (index, byte) in view.enumerated() where byte != Self.preface[index] {
            return .http1
        }
        return count == Self.preface.count ? .http2 : nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A connection that closes its input, or is asked to quiesce, before saying anything is
        // closed here: nothing downstream exists yet to do it, and graceful shutdown would wait.
        if !decided, event is ChannelShouldQuiesceEvent || (event as? ChannelEvent) == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
