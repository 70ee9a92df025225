import CNGHTTP2
import DequeModule
import GRPCCore
import NIOCore
import Synchronization

/// One HTTP/2 stream carrying one RPC.
///
/// Confinement: properties under "event loop" are read and written only on the connection's event loop (the
/// nghttp2 callbacks and the writer's loop-side half run there). The RPC task touches only `inbound` (a Mutex),
/// `pendingOutbound` / `writable` (atomics) and `cancellation` (a Mutex), which is what makes the
/// `@unchecked Sendable` sound.
final class ServerStream: @unchecked Sendable {
    let id: Int32
    let connection: NGHTTP2ServerConnectionHandler

    // MARK: event loop
    var method: String?
    var path: String?
    var contentType: String?
    var metadata = Metadata()
    var headerBytes = 0
    var deframer: GRPCMessageDeframer
    /// Inbound is over for the transport (END_STREAM seen, or failed): later DATA is consumed and dropped.
    var inboundDone = false
    /// Response headers submitted (status will go out as trailers).
    var headersSent = false
    /// A final status was submitted, or the response was abandoned: the writer drops everything after it.
    var responseDone = false
    /// Trailer fields waiting for the outbound queue to drain.
    var pendingTrailers: ServerHeaderBlock?
    /// The data provider returned NGHTTP2_ERR_DEFERRED and must be resumed when data or trailers arrive.
    var dataDeferred = false
    /// Send RST_STREAM(NO_ERROR) after the final status: the request was refused mid-upload.
    var resetAfterResponse = false
    var outbound = Deque<OutboundMessage>()
    var outboundQueuedBytes = 0
    var drainWaiter: CheckedContinuation<Void, any Error>?
    var task: Task<Void, Never>?
    var closed = false

    // MARK: shared with the RPC task
    let inbound: Mutex<InboundState>
    /// Framed bytes written by the RPC but not yet handed to nghttp2's DATA frames: the back-pressure counter.
    let pendingOutbound = Atomic<Int>(0)
    /// False once the response is complete or the stream is gone; writes then fail fast.
    let writable = Atomic<Bool>(true)
    let cancellation = Mutex<CancellationState>(CancellationState())

    struct CancellationState {
        var handle: ServerContext.RPCCancellationHandle?
        var cancelled = false
    }

    struct InboundState {
        var parts = Deque<RPCRequestPart<H2Bytes>>()
        var end: RPCError?? = nil  // nil: open; .some(nil): finished; .some(error): failed
        var waiter: CheckedContinuation<RPCRequestPart<H2Bytes>?, any Error>?
        /// Bytes of complete messages queued for the RPC but not yet taken.
        var queuedBytes = 0
        /// Bytes received whose stream flow-control credit is held back until the RPC catches up.
        var owedCredit = 0
    }

    /// A framed message on its way out: the 5-byte prefix is produced on the fly, so the message bytes are copied
    /// once, straight into the socket write buffer.
    struct OutboundMessage {
        var prefixSent = 0
        var body: ByteBuffer
        var prefix: (UInt8, UInt8, UInt8, UInt8, UInt8) {
            let length = UInt32(body.readableBytes)
            return (0, UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
                    UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length))
        }
    }

    init(id: Int32, connection: NGHTTP2ServerConnectionHandler, maxMessageBytes: Int) {
        self.id = id
        self.connection = connection
        self.deframer = GRPCMessageDeframer(maxMessageBytes: maxMessageBytes)
        self.inbound = Mutex(InboundState())
    }

    // MARK: inbound, event loop side

    /// Queues messages for the RPC; returns how much stream credit to give back to the peer now.
    func receive(messages: [ByteBuffer], chunkBytes: Int, creditLimit: Int) -> Int {
        var waiter: CheckedContinuation<RPCRequestPart<H2Bytes>?, any Error>?
        var first: RPCRequestPart<H2Bytes>?
        let credit = inbound.withLock { state -> Int in
            for message in messages {
                state.parts.append(.message(H2Bytes(message)))
                state.queuedBytes += message.readableBytes + 5
            }
            if let w = state.waiter, let part = state.parts.popFirst() {
                state.waiter = nil
                if case .message(let bytes) = part { state.queuedBytes -= bytes.count + 5 }
                waiter = w
                first = part
            }
            state.owedCredit += chunkBytes
            guard state.queuedBytes < creditLimit else { return 0 }
            defer { state.owedCredit = 0 }
            return state.owedCredit
        }
        waiter?.resume(returning: first)
        return credit
    }

    func receive(metadata: Metadata) {
        inbound.withLock { $0.parts.append(.metadata(metadata)) }
    }

    /// Ends the inbound side: `nil` is a clean END_STREAM.
    func finishInbound(_ error: RPCError?) {
        inboundDone = true
        let waiter = inbound.withLock { state -> CheckedContinuation<RPCRequestPart<H2Bytes>?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = .some(error)
            if error != nil { state.parts.removeAll() }
            defer { state.waiter = nil }
            return state.waiter
        }
        if let waiter {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
    }

    // MARK: inbound, RPC side

    enum NextResult {
        case part(RPCRequestPart<H2Bytes>, credit: Int)
        case end(RPCError?)
        case wait
    }

    private func takeNext(_ state: inout InboundState, creditLimit: Int) -> NextResult {
        if let part = state.parts.popFirst() {
            var credit = 0
            if case .message(let bytes) = part {
                state.queuedBytes -= bytes.count + 5
                if state.owedCredit > 0, state.queuedBytes < creditLimit {
                    credit = state.owedCredit
                    state.owedCredit = 0
                }
            }
            return .part(part, credit: credit)
        }
        if let end = state.end { return .end(end) }
        return .wait
    }

    func nextInbound() async throws -> RPCRequestPart<H2Bytes>? {
        let limit = connection.inboundCreditLimit
        switch inbound.withLock({ takeNext(&$0, creditLimit: limit) }) {
        case .part(let part, let credit):
            if credit > 0 { connection.returnCredit(stream: self, bytes: credit) }
            return part
        case .end(let error):
            if let error { throw error }
            return nil
        case .wait:
            break
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RPCRequestPart<H2Bytes>?, any Error>) in
                let result = inbound.withLock { state -> NextResult in
                    let next = takeNext(&state, creditLimit: limit)
                    if case .wait = next { state.waiter = continuation }
                    return next
                }
                switch result {
                case .part(let part, let credit):
                    if credit > 0 { connection.returnCredit(stream: self, bytes: credit) }
                    continuation.resume(returning: part)
                case .end(let error):
                    if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: nil) }
                case .wait:
                    break
                }
            }
        } onCancel: {
            let waiter = inbound.withLock { state -> CheckedContinuation<RPCRequestPart<H2Bytes>?, any Error>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: RPCError(code: .cancelled, message: "The RPC was cancelled."))
        }
    }

    // MARK: outbound, RPC side

    func write(_ part: RPCResponsePart<H2Bytes>) async throws {
        guard writable.load(ordering: .relaxed) else {
            throw RPCError(code: .unavailable, message: "The stream is closed.")
        }
        var size = 0
        if case .message(let bytes) = part { size = bytes.count + 5 }
        let pending = size == 0 ? 0 : pendingOutbound.add(size, ordering: .relaxed).newValue
        let loop = connection.loop
        if loop.inEventLoop {
            enqueue(part)
        } else {
            loop.execute { self.enqueue(part) }
        }
        if pending > connection.config.maxPendingOutboundBytes {
            try await waitForDrain()
        }
    }

    func finishWriter(error: (any Error)?) {
        let loop = connection.loop
        if loop.inEventLoop {
            finishOnLoop(error: error)
        } else {
            loop.execute { self.finishOnLoop(error: error) }
        }
    }

    private func waitForDrain() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let loop = connection.loop
            if loop.inEventLoop {
                registerDrainWaiter(continuation)
            } else {
                loop.execute { self.registerDrainWaiter(continuation) }
            }
        }
    }

    // MARK: outbound, event loop side

    private func registerDrainWaiter(_ continuation: CheckedContinuation<Void, any Error>) {
        if closed || responseDone {
            continuation.resume(throwing: RPCError(code: .unavailable, message: "The stream is closed."))
        } else if pendingOutbound.load(ordering: .relaxed) <= connection.config.maxPendingOutboundBytes {
            continuation.resume()
        } else {
            drainWaiter = continuation
        }
    }

    private func enqueue(_ part: RPCResponsePart<H2Bytes>) {
        guard !closed, !responseDone else { return }
        switch part {
        case .metadata(let metadata):
            guard !headersSent else { return }
            connection.submitHeaders(stream: self, metadata: metadata)
        case .message(let bytes):
            if !headersSent { connection.submitHeaders(stream: self, metadata: [:]) }
            outbound.append(OutboundMessage(body: bytes.buffer))
            outboundQueuedBytes += bytes.count + 5
            resumeDataIfDeferred()
        case .status(let status, let metadata):
            sendStatus(code: status.code.rawValue, message: status.message, metadata: metadata)
        }
        connection.scheduleFlush()
    }

    private func finishOnLoop(error: (any Error)?) {
        guard !closed, !responseDone else { return }
        // The writer closed without a status: answer with one rather than leaving the peer waiting.
        let rpcError = (error as? RPCError) ?? RPCError(code: .unknown, message: "The RPC ended without a status.")
        sendStatus(code: Status.Code(rpcError.code).rawValue, message: rpcError.message, metadata: rpcError.metadata)
        connection.scheduleFlush()
    }

    /// Submits the final status: trailers-only when nothing was sent yet, else trailers after the queued data.
    func sendStatus(code: Int, message: String, metadata: Metadata, httpStatus: Int = 200) {
        guard !closed, !responseDone else { return }
        responseDone = true
        writable.store(false, ordering: .relaxed)
        var block = ServerHeaderBlock()
        if !headersSent {
            block.add(":status", String(httpStatus))
            block.add("content-type", "application/grpc")
        }
        block.add("grpc-status", String(code))
        if !message.isEmpty { block.add("grpc-message", GRPCHeaders.percentEncode(message)) }
        for field in GRPCHeaders.fields(of: metadata) { block.add(field.name, field.value) }
        if headersSent {
            pendingTrailers = block
            resumeDataIfDeferred()
        } else {
            headersSent = true
            connection.submitTrailersOnly(stream: self, block: block)
        }
        resumeDrainWaiter(error: RPCError(code: .unavailable, message: "The response is complete."))
    }

    func resumeDataIfDeferred() {
        if dataDeferred {
            dataDeferred = false
            connection.resumeData(stream: self)
        }
    }

    /// Called from nghttp2's send-data callback: `length` bytes leave the queue.
    func dequeue(_ length: Int, into out: inout ByteBuffer) {
        var remaining = length
        while remaining > 0, var message = outbound.popFirst() {
            if message.prefixSent < 5 {
                let prefix = message.prefix
                let bytes = [prefix.0, prefix.1, prefix.2, prefix.3, prefix.4]
                let take = min(5 - message.prefixSent, remaining)
                out.writeBytes(bytes[message.prefixSent..<(message.prefixSent + take)])
                message.prefixSent += take
                remaining -= take
            }
            if remaining > 0 {
                let take = min(message.body.readableBytes, remaining)
                if let slice = message.body.readSlice(length: take) {
                    var slice = slice
                    out.writeBuffer(&slice)
                }
                remaining -= take
            }
            if message.prefixSent < 5 || message.body.readableBytes > 0 {
                outbound.prepend(message)
            }
        }
        outboundQueuedBytes -= length
        let pending = pendingOutbound.subtract(length, ordering: .relaxed).newValue
        if pending <= connection.config.maxPendingOutboundBytes { resumeDrainWaiter(error: nil) }
    }

    func resumeDrainWaiter(error: RPCError?) {
        guard let waiter = drainWaiter else { return }
        drainWaiter = nil
        if let error { waiter.resume(throwing: error) } else { waiter.resume() }
    }

    // MARK: cancellation

    /// The stream is gone (closed by nghttp2, reset by the peer, or the connection dropped).
    func closeOnLoop(abnormal: Bool) {
        guard !closed else { return }
        closed = true
        writable.store(false, ordering: .relaxed)
        let error = RPCError(code: .cancelled, message: abnormal ? "The stream was reset." : "The stream closed.")
        finishInbound(error)
        outbound.removeAll()
        pendingTrailers = nil
        resumeDrainWaiter(error: error)
        if abnormal || !responseDone { cancelRPC() }
    }

    /// Cancels the handler's task and fires the RPC's cancellation handle.
    func cancelRPC() {
        task?.cancel()
        let handle = cancellation.withLock { state -> ServerContext.RPCCancellationHandle? in
            state.cancelled = true
            defer { state.handle = nil }
            return state.handle
        }
        handle?.cancel()
    }

    /// From the RPC task: registers the handle, firing it at once if the stream is already gone.
    func attach(_ handle: ServerContext.RPCCancellationHandle) {
        let cancelled = cancellation.withLock { state -> Bool in
            if !state.cancelled { state.handle = handle }
            return state.cancelled
        }
        if cancelled { handle.cancel() }
    }

    /// GRPCCore cancelled the RPC's handle: only its deadline timer does that (our own cancellations close the
    /// stream first), so answer DEADLINE_EXCEEDED and stop the handler.
    func handleCancelledByCore() {
        let loop = connection.loop
        if loop.inEventLoop {
            deadlineExceededOnLoop()
        } else {
            loop.execute { self.deadlineExceededOnLoop() }
        }
    }

    private func deadlineExceededOnLoop() {
        guard !closed, !responseDone else { return }
        outbound.removeAll()
        let dropped = outboundQueuedBytes
        outboundQueuedBytes = 0
        pendingOutbound.subtract(dropped, ordering: .relaxed)
        sendStatus(code: Status.Code.deadlineExceeded.rawValue, message: "Deadline exceeded.", metadata: [:])
        finishInbound(RPCError(code: .deadlineExceeded, message: "Deadline exceeded."))
        task?.cancel()
        connection.scheduleFlush()
    }
}

/// The inbound request parts of one RPC, read by GRPCCore's executor.
struct ServerInboundSequence: AsyncSequence, Sendable {
    typealias Element = RPCRequestPart<H2Bytes>
    typealias Failure = any Error
    let stream: ServerStream

    struct AsyncIterator: AsyncIteratorProtocol {
        typealias Failure = any Error
        let stream: ServerStream
        mutating func next() async throws -> RPCRequestPart<H2Bytes>? {
            try await stream.nextInbound()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: stream) }
}

/// The response side of one RPC: writes go straight to the stream on the connection's event loop.
struct ServerOutboundWriter: ClosableRPCWriterProtocol {
    typealias Element = RPCResponsePart<H2Bytes>
    let stream: ServerStream

    func write(_ element: RPCResponsePart<H2Bytes>) async throws {
        try await stream.write(element)
    }

    func write(contentsOf elements: some Sequence<RPCResponsePart<H2Bytes>>) async throws {
        for element in elements { try await stream.write(element) }
    }

    func finish() async {
        stream.finishWriter(error: nil)
    }

    func finish(throwing error: any Error) async {
        stream.finishWriter(error: error)
    }
}

/// Header fields packed into one byte array, handed to nghttp2 (which copies them) as an `nghttp2_nv` array.
struct ServerHeaderBlock {
    private var bytes: [UInt8] = []
    private var spans: [(name: Range<Int>, value: Range<Int>)] = []

    init() {
        bytes.reserveCapacity(128)
        spans.reserveCapacity(6)
    }

    mutating func add(_ name: String, _ value: String) {
        let nameStart = bytes.count
        bytes.append(contentsOf: name.utf8)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        spans.append((nameStart..<valueStart, valueStart..<bytes.count))
    }

    func withNVs<R>(_ body: (UnsafePointer<nghttp2_nv>?, Int) -> R) -> R {
        var storage = bytes
        return storage.withUnsafeMutableBufferPointer { buffer -> R in
            guard let base = buffer.baseAddress else { return body(nil, 0) }
            var nvs = spans.map { span in
                nghttp2_nv(
                    name: base + span.name.lowerBound, value: base + span.value.lowerBound,
                    namelen: span.name.count, valuelen: span.value.count,
                    flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return nvs.withUnsafeMutableBufferPointer { body(UnsafePointer($0.baseAddress), $0.count) }
        }
    }
}
