import CNGHTTP2
import DequeModule
import GRPCCore
import NIOCore

/// One RPC's HTTP/2 stream on a `ClientConnection`: request framing and back-pressure on the way out, response
/// headers, deframing, trailers and flow-control credit on the way in.
///
/// Every mutable property is confined to the connection's event loop (`connection.eventLoop`); the async entry
/// points below either run inline when already on that loop (the usual case: streams run with the loop as task
/// executor preference) or hop to it.
final class ClientStream: @unchecked Sendable {
    typealias Part = RPCResponsePart<H2Bytes>

    let connection: ClientConnection
    let descriptor: MethodDescriptor
    private let maxPendingOutbound: Int

    /// The HTTP/2 stream id, 0 until the request HEADERS are submitted.
    private(set) var streamID: Int32 = 0
    /// True while nghttp2 knows the stream (submitted and not yet closed).
    private(set) var isOpenInSession = false
    private var callerDone = false

    // Outbound: framed request messages waiting for nghttp2's data provider.
    private var pendingOut = ByteBuffer()
    private var outboundFinished = false
    private var dataDeferred = false
    private var writerWaiter: CheckedContinuation<Void, any Error>?
    /// Set when no more writes can succeed (stream closed, reset or its connection gone).
    private var writeError: RPCError?

    // Inbound.
    private var inbound = Deque<Part>()
    private var readerWaiter: CheckedContinuation<Part?, any Error>?
    private var terminal: Terminal = .open
    private var deframer: GRPCMessageDeframer
    private var responseHeadersReceived = false
    private var block = HeaderBlock()

    // Flow control: bytes of complete messages that wait in `inbound` are "held" and only given back to the
    // peer (nghttp2_session_consume) when the caller takes them; the bytes of a message still being assembled
    // are given back at once, or a message bigger than the stream window could never complete.
    private var receivedBytes = 0
    private var consumedBytes = 0
    private var heldBytes = 0

    private enum Terminal {
        case open
        /// The status has been queued; the sequence ends after it.
        case finished
        case failed(RPCError)
    }

    /// The fields of one HEADERS block as they arrive.
    private struct HeaderBlock {
        var httpStatus: Int?
        var grpcStatus: Int?
        var grpcMessage: String?
        var contentType: String?
        var metadata = Metadata()
    }

    init(connection: ClientConnection, descriptor: MethodDescriptor, maxResponseBytes: Int, maxPendingOutbound: Int) {
        self.connection = connection
        self.descriptor = descriptor
        self.maxPendingOutbound = max(maxPendingOutbound, 1)
        deframer = GRPCMessageDeframer(maxMessageBytes: maxResponseBytes)
    }

    private var eventLoop: any EventLoop { connection.eventLoop }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    // MARK: - Caller side (async entry points)

    func write(_ part: RPCRequestPart<H2Bytes>) async throws {
        if eventLoop.inEventLoop {
            switch enqueueWrite(part) {
            case .done: return
            case .failed(let error): throw error
            case .mustWait: break
            }
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                onLoop { self.writeOrPark(part, continuation) }
            }
        } onCancel: {
            self.onLoop { self.cancel(RPCError(code: .cancelled, message: "the RPC was cancelled")) }
        }
    }

    func finish(error: (any Error)?) {
        onLoop { self.finishOutbound(error: error) }
    }

    func next() async throws -> Part? {
        if eventLoop.inEventLoop {
            switch takeNext() {
            case .part(let part): return part
            case .end: return nil
            case .failed(let error): throw error
            case .wait: break
            }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Part?, any Error>) in
                onLoop { self.takeNextOrPark(continuation) }
            }
        } onCancel: {
            self.onLoop { self.cancel(RPCError(code: .cancelled, message: "the RPC was cancelled")) }
        }
    }

    /// The caller's closure has returned or thrown: a stream that is still open is reset (RST_STREAM CANCEL).
    func closeFromCaller() {
        onLoop {
            self.callerDone = true
            if case .open = self.terminal {
                self.cancel(RPCError(code: .cancelled, message: "the RPC was closed by the caller"))
            } else if self.isOpenInSession {
                // The response ended but our request side did not: tell the server we are gone.
                self.connection.resetStream(self, errorCode: NGHTTP2_CANCEL)
            }
            self.inbound.removeAll()
            self.heldBytes = 0
            self.giveBackCredit()
        }
    }

    // MARK: - Outbound, on the loop

    private enum WriteOutcome {
        case done
        case mustWait
        case failed(RPCError)
    }

    private func enqueueWrite(_ part: RPCRequestPart<H2Bytes>) -> WriteOutcome {
        if let writeError { return .failed(writeError) }
        if outboundFinished {
            return .failed(RPCError(code: .failedPrecondition, message: "the request stream is already finished"))
        }
        switch part {
        case .metadata(let metadata):
            if streamID != 0 {
                return .failed(RPCError(code: .internalError, message: "request metadata was already sent"))
            }
            if let error = connection.open(self, metadata: metadata) {
                writeError = error
                fail(error)
                return .failed(error)
            }
            return .done
        case .message(let bytes):
            if streamID == 0 {
                return .failed(RPCError(code: .internalError, message: "a request message was written before metadata"))
            }
            GRPCMessageFramer.frame(bytes.buffer, into: &pendingOut)
            resumeData()
            return pendingOut.readableBytes > maxPendingOutbound ? .mustWait : .done
        }
    }

    private func writeOrPark(_ part: RPCRequestPart<H2Bytes>, _ continuation: CheckedContinuation<Void, any Error>) {
        switch enqueueWrite(part) {
        case .done:
            continuation.resume()
        case .failed(let error):
            continuation.resume(throwing: error)
        case .mustWait:
            if let writeError {
                continuation.resume(throwing: writeError)
            } else {
                writerWaiter = continuation
            }
        }
    }

    private func finishOutbound(error: (any Error)?) {
        guard !outboundFinished else { return }
        outboundFinished = true
        if let error {
            let rpcError = (error as? RPCError)
                ?? RPCError(code: .unknown, message: "the request stream failed", cause: error)
            cancel(rpcError)
            return
        }
        if streamID != 0 { resumeData() }
    }

    private func resumeData() {
        guard isOpenInSession else { return }
        if dataDeferred {
            dataDeferred = false
            connection.resumeData(self)
        }
        connection.scheduleFlush()
    }

    /// nghttp2's data provider asks how much to send (at most `maxLength`); the bytes are copied in `sendData`.
    func readOutbound(maxLength: Int) -> (length: Int, endOfStream: Bool)? {
        let length = min(pendingOut.readableBytes, maxLength)
        if length == 0 && !outboundFinished {
            dataDeferred = true
            return nil
        }
        return (length, outboundFinished && length == pendingOut.readableBytes)
    }

    /// Copies `length` pending bytes into the connection's output after nghttp2 wrote the frame header.
    func sendData(length: Int, into output: inout ByteBuffer) {
        _ = pendingOut.withUnsafeReadableBytes { bytes in
            output.writeBytes(UnsafeRawBufferPointer(rebasing: bytes.prefix(length)))
        }
        pendingOut.moveReaderIndex(forwardBy: min(length, pendingOut.readableBytes))
        if pendingOut.readableBytes == 0 { pendingOut.clear() }
        if pendingOut.readableBytes <= maxPendingOutbound, let waiter = writerWaiter {
            writerWaiter = nil
            waiter.resume()
        }
    }

    // MARK: - Inbound, on the loop

    private enum NextOutcome {
        case part(Part)
        case end
        case failed(RPCError)
        case wait
    }

    private func takeNext() -> NextOutcome {
        if let part = inbound.popFirst() {
            if case .message(let bytes) = part {
                heldBytes -= 5 + bytes.count
                giveBackCredit()
            }
            return .part(part)
        }
        switch terminal {
        case .open: return .wait
        case .finished: return .end
        case .failed(let error): return .failed(error)
        }
    }

    private func takeNextOrPark(_ continuation: CheckedContinuation<Part?, any Error>) {
        switch takeNext() {
        case .part(let part): continuation.resume(returning: part)
        case .end: continuation.resume(returning: nil)
        case .failed(let error): continuation.resume(throwing: error)
        case .wait: readerWaiter = continuation
        }
    }

    private func deliver(_ part: Part) {
        if let waiter = readerWaiter {
            readerWaiter = nil
            if case .message(let bytes) = part {
                heldBytes -= 5 + bytes.count
            }
            waiter.resume(returning: part)
        } else {
            inbound.append(part)
        }
    }

    /// Ends the response with a status; the status follows any messages still queued.
    private func finish(with status: Status, metadata: Metadata) {
        guard case .open = terminal else { return }
        deliver(.status(status, metadata))
        terminal = .finished
        if let waiter = readerWaiter {
            readerWaiter = nil
            waiter.resume(returning: nil)
        }
    }

    /// Ends the response with an error once the queued parts are read.
    func fail(_ error: RPCError) {
        if writeError == nil { writeError = error }
        if let waiter = writerWaiter {
            writerWaiter = nil
            waiter.resume(throwing: error)
        }
        guard case .open = terminal else { return }
        terminal = .failed(error)
        if let waiter = readerWaiter {
            readerWaiter = nil
            waiter.resume(throwing: error)
        }
    }

    /// Fails the stream now (queued parts are dropped) and resets it on the wire.
    private func cancel(_ error: RPCError) {
        inbound.removeAll()
        heldBytes = 0
        if case .open = terminal {
            terminal = .failed(error)
        }
        if let waiter = readerWaiter {
            readerWaiter = nil
            waiter.resume(throwing: error)
        }
        if writeError == nil { writeError = error }
        if let waiter = writerWaiter {
            writerWaiter = nil
            waiter.resume(throwing: error)
        }
        if isOpenInSession {
            connection.resetStream(self, errorCode: NGHTTP2_CANCEL)
        }
        giveBackCredit()
    }

    /// Gives flow-control credit back for every received byte that is no longer held in the queue.
    private func giveBackCredit() {
        let target = receivedBytes - heldBytes
        if target > consumedBytes {
            connection.consume(self, bytes: target - consumedBytes)
            consumedBytes = target
        }
    }

    // MARK: - Events from the connection (nghttp2 callbacks, on the loop)

    func didSubmit(streamID: Int32) {
        self.streamID = streamID
        isOpenInSession = true
    }

    func beginHeaders() {
        block = HeaderBlock()
    }

    func header(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        guard let first = name.first else { return }
        if first == UInt8(ascii: ":") {
            if name.elementsEqual(":status".utf8) {
                block.httpStatus = Int(String(decoding: value, as: UTF8.self))
            }
            return
        }
        if name.elementsEqual("grpc-status".utf8) {
            block.grpcStatus = Int(String(decoding: value, as: UTF8.self))
        } else if name.elementsEqual("grpc-message".utf8) {
            block.grpcMessage = GRPCHeaders.percentDecode(String(decoding: value, as: UTF8.self))
        } else if name.elementsEqual("content-type".utf8) {
            block.contentType = String(decoding: value, as: UTF8.self)
        } else {
            let key = String(decoding: name, as: UTF8.self)
            if !GRPCHeaders.isReserved(key) {
                GRPCHeaders.add(name: key, value: value, to: &block.metadata)
            }
        }
    }

    /// A HEADERS frame is complete. Returns an error code to reset the stream with, if the peer misbehaved.
    func endHeaders(endStream: Bool) -> nghttp2_error_code? {
        let block = self.block
        self.block = HeaderBlock()
        if !responseHeadersReceived {
            guard let httpStatus = block.httpStatus else {
                fail(RPCError(code: .internalError, message: "response headers have no :status"))
                return endStream ? nil : NGHTTP2_PROTOCOL_ERROR
            }
            if (100..<200).contains(httpStatus) { return nil }  // informational; the real response follows
            responseHeadersReceived = true
            if httpStatus != 200 {
                let code = GRPCHeaders.code(forHTTPStatus: httpStatus)
                let message = block.grpcMessage ?? "unexpected HTTP status \(httpStatus)"
                finish(with: Status(code: Status.Code(code), message: message), metadata: block.metadata)
                return endStream ? nil : NGHTTP2_CANCEL
            }
            if endStream {
                // Trailers-only: a status without messages.
                finish(with: status(of: block), metadata: block.metadata)
                return nil
            }
            guard let contentType = block.contentType, contentType.hasPrefix("application/grpc") else {
                fail(RPCError(
                    code: .internalError,
                    message: "response content-type '\(block.contentType ?? "")' is not application/grpc"))
                return NGHTTP2_CANCEL
            }
            deliver(.metadata(block.metadata))
            return nil
        }
        guard endStream else {
            fail(RPCError(code: .internalError, message: "received a second HEADERS block that does not end the stream"))
            return NGHTTP2_PROTOCOL_ERROR
        }
        if deframer.hasPartialMessage {
            fail(RPCError(code: .internalError, message: "the response ended in the middle of a message"))
            return nil
        }
        finish(with: status(of: block), metadata: block.metadata)
        return nil
    }

    private func status(of block: HeaderBlock) -> Status {
        guard let raw = block.grpcStatus else {
            return Status(code: .unknown, message: "the response trailers carry no grpc-status")
        }
        let code = Status.Code(rawValue: raw) ?? .unknown
        return Status(code: code, message: block.grpcMessage ?? "")
    }

    /// DATA payload bytes. Returns an error code to reset the stream with, if the response is unacceptable.
    func receiveData(_ bytes: UnsafeRawBufferPointer) -> nghttp2_error_code? {
        receivedBytes += bytes.count
        guard responseHeadersReceived, case .open = terminal else {
            // Data after the response failed or before its headers: drop it, but return its credit.
            giveBackCredit()
            if !responseHeadersReceived, case .open = terminal {
                fail(RPCError(code: .internalError, message: "response DATA arrived before response headers"))
                return NGHTTP2_PROTOCOL_ERROR
            }
            return nil
        }
        deframer.append(bytes)
        do {
            while let message = try deframer.next() {
                heldBytes += 5 + message.readableBytes
                deliver(.message(H2Bytes(message)))
            }
        } catch {
            cancelQueueAndFail(error)
            return NGHTTP2_CANCEL
        }
        giveBackCredit()
        return nil
    }

    private func cancelQueueAndFail(_ error: RPCError) {
        inbound.removeAll()
        heldBytes = 0
        fail(error)
        giveBackCredit()
    }

    /// A DATA frame ended the stream: a gRPC response must end with trailers.
    func dataEndedStream() {
        fail(RPCError(code: .internalError, message: "the response ended without trailers"))
    }

    /// nghttp2 closed the stream (after both sides ended, a reset, a GOAWAY or connection loss).
    func sessionClosed(errorCode: UInt32) {
        isOpenInSession = false
        if case .open = terminal {
            fail(Self.error(forResetCode: errorCode))
        }
        if writeError == nil {
            writeError = RPCError(code: .unavailable, message: "the stream is closed")
        }
        if let waiter = writerWaiter {
            writerWaiter = nil
            waiter.resume(throwing: writeError ?? RPCError(code: .unavailable, message: "the stream is closed"))
        }
        if callerDone {
            inbound.removeAll()
            heldBytes = 0
        }
        pendingOut = ByteBuffer()
        giveBackCredit()
    }

    /// gRPC's mapping of HTTP/2 error codes to status codes.
    static func error(forResetCode code: UInt32) -> RPCError {
        switch nghttp2_error_code(rawValue: code) {
        case NGHTTP2_NO_ERROR:
            return RPCError(code: .internalError, message: "the stream closed before the response completed")
        case NGHTTP2_REFUSED_STREAM:
            return RPCError(code: .unavailable, message: "the server refused the stream (REFUSED_STREAM)")
        case NGHTTP2_CANCEL:
            return RPCError(code: .cancelled, message: "the server cancelled the stream (RST_STREAM CANCEL)")
        case NGHTTP2_ENHANCE_YOUR_CALM:
            return RPCError(code: .resourceExhausted, message: "the server reset the stream (ENHANCE_YOUR_CALM)")
        case NGHTTP2_INADEQUATE_SECURITY:
            return RPCError(code: .permissionDenied, message: "the server reset the stream (INADEQUATE_SECURITY)")
        default:
            return RPCError(code: .internalError, message: "the server reset the stream (HTTP/2 error \(code))")
        }
    }
}

extension ClientStream {
    /// The response parts, as GRPCCore reads them.
    struct Inbound: AsyncSequence, Sendable {
        typealias Element = RPCResponsePart<H2Bytes>
        let stream: ClientStream

        func makeAsyncIterator() -> Iterator { Iterator(stream: stream) }

        struct Iterator: AsyncIteratorProtocol {
            let stream: ClientStream
            func next() async throws -> RPCResponsePart<H2Bytes>? { try await stream.next() }
        }
    }

    /// The request writer GRPCCore writes metadata and messages to; `finish()` half-closes the stream.
    struct Outbound: ClosableRPCWriterProtocol {
        typealias Element = RPCRequestPart<H2Bytes>
        let stream: ClientStream

        func write(_ element: RPCRequestPart<H2Bytes>) async throws {
            try await stream.write(element)
        }

        func write(contentsOf elements: some Sequence<RPCRequestPart<H2Bytes>>) async throws {
            for element in elements { try await stream.write(element) }
        }

        func finish() async {
            stream.finish(error: nil)
        }

        func finish(throwing error: any Error) async {
            stream.finish(error: error)
        }
    }
}
