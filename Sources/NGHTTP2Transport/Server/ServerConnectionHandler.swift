import CNGHTTP2
import GRPCCore
import Logging
import NIOCore

/// One HTTP/2 connection: owns an nghttp2 server session and maps its streams to RPCs.
///
/// Confinement: every stored `var` is read and written only on `loop`, the channel's event loop (NIO calls the
/// handler there, nghttp2 callbacks run inside `mem_recv`/`mem_send` called from here, and RPC tasks reach this
/// object only through methods that run inline when already on `loop` or hop with `loop.execute`). The `let`s are
/// immutable and Sendable. That is what the `@unchecked Sendable` rests on.
final class NGHTTP2ServerConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias StreamHandler = @Sendable (
        RPCStream<NGHTTP2ServerTransport.Inbound, NGHTTP2ServerTransport.Outbound>, ServerContext
    ) async -> Void

    let loop: any EventLoop
    let config: NGHTTP2ServerTransport.Config
    let streamHandler: StreamHandler
    let logger: Logger
    /// Called once, on `loop`, when the channel is closed and every RPC task of the connection has returned.
    private let onFinished: @Sendable () -> Void
    private let executor: EventLoopTaskExecutor?
    var inboundCreditLimit: Int { config.initialStreamWindowBytes }

    private var session: OpaquePointer?
    private var context: ChannelHandlerContext?
    private var streams: [Int32: ServerStream] = [:]
    private var out = ByteBuffer()
    private var flushScheduled = false
    /// True while nghttp2 is running our callbacks: mem_send must not be re-entered from them.
    private var inSession = false
    private var runningTasks = 0
    private var channelClosed = false
    private var finishedReported = false
    private var remotePeer = "<unknown>"
    private var localPeer = "<unknown>"

    private var shutdownStarted = false
    private var finalGoAwaySent = false
    private var shutdownTimer: Scheduled<Void>?
    private var keepaliveTask: RepeatedTask?
    private var pingTimeoutTask: Scheduled<Void>?
    private var lastReadAt = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?

    private static let shutdownPing: UInt64 = 0x6f61_6173_2d73_6864  // "oaas-shd"
    private static let keepalivePing: UInt64 = 0x6f61_6173_2d6b_6170  // "oaas-kap"

    init(
        loop: any EventLoop, config: NGHTTP2ServerTransport.Config, streamHandler: @escaping StreamHandler,
        logger: Logger, onFinished: @escaping @Sendable () -> Void
    ) {
        self.loop = loop
        self.config = config
        self.streamHandler = streamHandler
        self.logger = logger
        self.onFinished = onFinished
        self.executor = config.runHandlersOnEventLoop ? EventLoopTaskExecutor(loop) : nil
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        remotePeer = GRPCPeer.describe(context.channel.remoteAddress)
        localPeer = GRPCPeer.describe(context.channel.localAddress)
        do {
            try createSession()
        } catch {
            logger.debug("nghttp2 session setup failed", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        armTimers()
        if context.channel.isActive { flush() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        remotePeer = GRPCPeer.describe(context.channel.remoteAddress)
        localPeer = GRPCPeer.describe(context.channel.localAddress)
        flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let session else { return }
        if config.keepalive != nil { lastReadAt = .now() }
        inSession = true
        let result = buffer.withUnsafeReadableBytes { bytes in
            nghttp2_session_mem_recv(session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        inSession = false
        if result < 0 {
            // Bad preface or a fatal callback error: nothing sensible can follow on this connection.
            logger.debug("closing HTTP/2 connection", metadata: ["nghttp2": "\(String(cString: nghttp2_strerror(Int32(result))))"])
            flush()
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flush() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("HTTP/2 connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func tearDown() {
        guard !channelClosed else { return }
        channelClosed = true
        keepaliveTask?.cancel()
        pingTimeoutTask?.cancel()
        idleTimer?.cancel()
        shutdownTimer?.cancel()
        let open = streams
        streams.removeAll()
        for stream in open.values { stream.closeOnLoop(abnormal: true) }
        if let session {
            nghttp2_session_del(session)
            self.session = nil
        }
        reportFinishedIfDone()
    }

    private func reportFinishedIfDone() {
        if channelClosed, runningTasks == 0, !finishedReported {
            finishedReported = true
            onFinished()
        }
    }

    // MARK: writing

    /// Coalesces writes from RPC tasks: one mem_send drain and one socket write per event loop tick.
    func scheduleFlush() {
        guard !flushScheduled, !channelClosed else { return }
        flushScheduled = true
        loop.execute {
            self.flushScheduled = false
            self.flush()
        }
    }

    /// Drains nghttp2's output into one buffer and writes+flushes it once. Stops while the socket is not writable,
    /// so a peer that does not read leaves frames inside nghttp2 (bounded by flow control and its ACK limits).
    private func flush() {
        guard let session, let context, !inSession, context.channel.isActive else { return }
        guard context.channel.isWritable else { return }
        inSession = true
        var failed = false
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 {
                failed = true
                break
            }
            guard count > 0, let data else { break }
            out.writeBytes(UnsafeRawBufferPointer(start: data, count: count))
        }
        inSession = false
        if out.readableBytes > 0 {
            // Swap the buffer out first: writeAndFlush can re-enter flush() via channelWritabilityChanged.
            let bytes = out
            out = context.channel.allocator.buffer(capacity: 0)
            context.writeAndFlush(NIOAny(bytes), promise: nil)
        }
        if failed || (nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0) {
            context.close(promise: nil)
        }
    }

    // MARK: session setup

    private struct SetupError: Error { var code: Int32 }

    private func createSession() throws {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { throw SetupError(code: -1) }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, user in
            guard let frame, let handler = NGHTTP2ServerConnectionHandler.from(user) else { return 0 }
            return handler.onBeginHeaders(frame)
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, user in
            guard let frame, let name, let value, let handler = NGHTTP2ServerConnectionHandler.from(user) else { return 0 }
            return handler.onHeader(
                frame, name: UnsafeRawBufferPointer(start: name, count: nameLength),
                value: UnsafeRawBufferPointer(start: value, count: valueLength))
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            guard let frame, let handler = NGHTTP2ServerConnectionHandler.from(user) else { return 0 }
            return handler.onFrameReceived(frame)
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, user in
            guard let data, let handler = NGHTTP2ServerConnectionHandler.from(user) else { return 0 }
            return handler.onData(streamID: streamID, UnsafeRawBufferPointer(start: data, count: length))
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, user in
            guard let handler = NGHTTP2ServerConnectionHandler.from(user) else { return 0 }
            return handler.onStreamClose(streamID: streamID, errorCode: errorCode)
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, user in
            guard let frame, let handler = NGHTTP2ServerConnectionHandler.from(user) else { return 0 }
            return handler.onFrameSent(frame)
        }
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, header, length, _, user in
            guard let frame, let header, let handler = NGHTTP2ServerConnectionHandler.from(user) else {
                return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
            }
            return handler.sendData(frame, header: header, length: length)
        }

        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { throw SetupError(code: -1) }
        defer { nghttp2_option_del(option) }
        // The RPC's reads give credit back (nghttp2_session_consume): a slow handler back-pressures its peer.
        nghttp2_option_set_no_auto_window_update(option, 1)
        nghttp2_option_set_max_continuations(option, 8)

        var created: OpaquePointer?
        let rc = nghttp2_session_server_new2(&created, callbacks, Unmanaged.passUnretained(self).toOpaque(), option)
        guard rc == 0, let created else { throw SetupError(code: rc) }
        session = created

        var settings = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: UInt32(clamping: config.maxConcurrentStreams)),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: UInt32(clamping: min(config.initialStreamWindowBytes, Int(Int32.max)))),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                value: UInt32(clamping: config.maxHeaderListBytes)),
        ]
        let settingsRC = settings.withUnsafeMutableBufferPointer {
            nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), $0.baseAddress, $0.count)
        }
        guard settingsRC == 0 else { throw SetupError(code: settingsRC) }
        if config.connectionWindowBytes > 65535 {
            nghttp2_session_set_local_window_size(
                created, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(clamping: config.connectionWindowBytes))
        }
    }

    private static func from(_ user: UnsafeMutableRawPointer?) -> NGHTTP2ServerConnectionHandler? {
        guard let user else { return nil }
        return Unmanaged<NGHTTP2ServerConnectionHandler>.fromOpaque(user).takeUnretainedValue()
    }

    // MARK: nghttp2 callbacks (on loop, inside mem_recv / mem_send)

    private func isRequestHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Bool {
        frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) && frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
    }

    private func onBeginHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        guard isRequestHeaders(frame) else { return 0 }
        let id = frame.pointee.hd.stream_id
        streams[id] = ServerStream(id: id, connection: self, maxMessageBytes: config.maxMessageBytes)
        idleTimer?.cancel()
        idleTimer = nil
        return 0
    }

    private func onHeader(_ frame: UnsafePointer<nghttp2_frame>, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Int32 {
        guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue), let stream = streams[frame.pointee.hd.stream_id] else {
            return 0
        }
        // RFC 9113 §6.5.2 size accounting; exceeding the advertised limit resets the stream (HPACK bomb guard).
        stream.headerBytes += name.count + value.count + 32
        if stream.headerBytes > config.maxHeaderListBytes {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        guard frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }  // client trailers: ignored
        let key = String(decoding: name, as: UTF8.self)
        switch key {
        case ":method": stream.method = String(decoding: value, as: UTF8.self)
        case ":path": stream.path = String(decoding: value, as: UTF8.self)
        case "content-type": stream.contentType = String(decoding: value, as: UTF8.self)
        default:
            if !GRPCHeaders.isReserved(key) { GRPCHeaders.add(name: key, value: value, to: &stream.metadata) }
        }
        return 0
    }

    private func onFrameReceived(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let header = frame.pointee.hd
        let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch header.type {
        case UInt8(NGHTTP2_HEADERS.rawValue):
            guard let stream = streams[header.stream_id] else { return 0 }
            if frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST { startRPC(stream) }
            if endStream { endInbound(stream) }
        case UInt8(NGHTTP2_DATA.rawValue):
            if endStream, let stream = streams[header.stream_id] { endInbound(stream) }
        case UInt8(NGHTTP2_PING.rawValue):
            guard header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 else { return 0 }
            let opaque = withUnsafeBytes(of: frame.pointee.ping.opaque_data) { $0.loadUnaligned(as: UInt64.self) }
            if opaque == Self.shutdownPing {
                sendFinalGoAway()
            } else if opaque == Self.keepalivePing {
                pingTimeoutTask?.cancel()
                pingTimeoutTask = nil
            }
        default:
            break
        }
        return 0
    }

    private func onData(streamID: Int32, _ data: UnsafeRawBufferPointer) -> Int32 {
        guard let session else { return 0 }
        // Connection credit goes back at once: per-stream credit is what bounds buffering, and one stalled RPC
        // must not starve the others.
        nghttp2_session_consume_connection(session, data.count)
        guard let stream = streams[streamID], !stream.inboundDone else {
            nghttp2_session_consume_stream(session, streamID, data.count)
            return 0
        }
        stream.deframer.append(data)
        var messages: [ByteBuffer] = []
        do {
            while let message = try stream.deframer.next() { messages.append(message) }
        } catch {
            nghttp2_session_consume_stream(session, streamID, data.count)
            stream.finishInbound(error)
            // Trailers first, then RST_STREAM(NO_ERROR) once they are out (see onFrameSent) to stop the upload.
            stream.resetAfterResponse = true
            stream.sendStatus(code: Status.Code(error.code).rawValue, message: error.message, metadata: [:])
            stream.cancelRPC()
            return 0
        }
        let credit = stream.receive(messages: messages, chunkBytes: data.count, creditLimit: inboundCreditLimit)
        if credit > 0 { nghttp2_session_consume_stream(session, streamID, credit) }
        return 0
    }

    private func onFrameSent(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let header = frame.pointee.hd
        guard header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
              header.type == UInt8(NGHTTP2_HEADERS.rawValue) || header.type == UInt8(NGHTTP2_DATA.rawValue),
              let stream = streams[header.stream_id], stream.resetAfterResponse, let session else { return 0 }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), header.stream_id, NGHTTP2_NO_ERROR.rawValue)
        return 0
    }

    private func onStreamClose(streamID: Int32, errorCode: UInt32) -> Int32 {
        guard let stream = streams.removeValue(forKey: streamID) else { return 0 }
        stream.closeOnLoop(abnormal: errorCode != NGHTTP2_NO_ERROR.rawValue || !stream.responseDone)
        if streams.isEmpty { armIdleTimer() }
        return 0
    }

    /// The data provider's read callback: says how many queued bytes go in the next DATA frame (copied later, in
    /// `sendData`, with NGHTTP2_DATA_FLAG_NO_COPY), or defers until the RPC writes more.
    fileprivate func readData(streamID: Int32, length: Int, flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let stream = streams[streamID], let session else {
            return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        let count = min(length, stream.outboundQueuedBytes)
        if count > 0 { flags.pointee |= NGHTTP2_DATA_FLAG_NO_COPY.rawValue }
        if count == stream.outboundQueuedBytes, let trailers = stream.pendingTrailers {
            stream.pendingTrailers = nil
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
            let rc = trailers.withNVs { nghttp2_submit_trailer(session, streamID, $0, $1) }
            if rc != 0 { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
            return count
        }
        if count == 0 {
            stream.dataDeferred = true
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        return count
    }

    private func sendData(_ frame: UnsafeMutablePointer<nghttp2_frame>, header: UnsafePointer<UInt8>, length: Int) -> Int32 {
        guard let stream = streams[frame.pointee.hd.stream_id] else { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
        out.writeBytes(UnsafeRawBufferPointer(start: header, count: 9))
        let padding = frame.pointee.data.padlen
        if padding > 0 { out.writeInteger(UInt8(truncatingIfNeeded: padding - 1)) }
        stream.dequeue(length, into: &out)
        if padding > 1 { out.writeRepeatingByte(0, count: padding - 1) }
        return 0
    }

    // MARK: RPC lifecycle

    private func endInbound(_ stream: ServerStream) {
        guard !stream.inboundDone else { return }
        if stream.deframer.hasPartialMessage {
            let error = RPCError(code: .internalError, message: "The request ended in the middle of a message.")
            stream.finishInbound(error)
            stream.resetAfterResponse = true
            stream.sendStatus(code: Status.Code.internalError.rawValue, message: error.message, metadata: [:])
            stream.cancelRPC()
        } else {
            stream.finishInbound(nil)
        }
    }

    private func startRPC(_ stream: ServerStream) {
        guard stream.method == "POST" else {
            stream.inboundDone = true
            stream.sendStatus(code: Status.Code.internalError.rawValue, message: "Only POST is supported.", metadata: [:], httpStatus: 405)
            return
        }
        guard let contentType = stream.contentType, contentType.hasPrefix("application/grpc") else {
            stream.inboundDone = true
            stream.sendStatus(code: Status.Code.unknown.rawValue, message: "Unsupported content-type.", metadata: [:], httpStatus: 415)
            return
        }
        guard let descriptor = stream.path.flatMap(Self.descriptor(fromPath:)) else {
            stream.inboundDone = true
            stream.sendStatus(code: Status.Code.unimplemented.rawValue, message: "Invalid :path.", metadata: [:])
            return
        }
        stream.receive(metadata: stream.metadata)
        stream.metadata = [:]

        let rpcStream = RPCStream(
            descriptor: descriptor,
            inbound: RPCAsyncSequence(wrapping: ServerInboundSequence(stream: stream)),
            outbound: RPCWriter.Closable(wrapping: ServerOutboundWriter(stream: stream)))
        let handler = streamHandler
        let remotePeer = remotePeer
        let localPeer = localPeer
        runningTasks += 1
        stream.task = Task(executorPreference: executor) {
            await withServerContextRPCCancellationHandle { handle in
                stream.attach(handle)
                let context = ServerContext(
                    descriptor: descriptor, remotePeer: remotePeer, localPeer: localPeer, cancellation: handle)
                await withRPCCancellationHandler {
                    await handler(rpcStream, context)
                } onCancelRPC: {
                    stream.handleCancelledByCore()
                }
            }
            stream.connection.rpcTaskFinished()
        }
    }

    private func rpcTaskFinished() {
        if loop.inEventLoop {
            runningTasks -= 1
            reportFinishedIfDone()
        } else {
            loop.execute {
                self.runningTasks -= 1
                self.reportFinishedIfDone()
            }
        }
    }

    static func descriptor(fromPath path: String) -> MethodDescriptor? {
        let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty,
              let service = String(parts[1]), let method = String(parts[2]) else { return nil }
        return MethodDescriptor(fullyQualifiedService: service, method: method)
    }

    // MARK: called by streams (on loop)

    func returnCredit(stream: ServerStream, bytes: Int) {
        if loop.inEventLoop {
            returnCreditOnLoop(stream: stream, bytes: bytes)
        } else {
            loop.execute { self.returnCreditOnLoop(stream: stream, bytes: bytes) }
        }
    }

    private func returnCreditOnLoop(stream: ServerStream, bytes: Int) {
        guard let session, !stream.closed else { return }
        nghttp2_session_consume_stream(session, stream.id, bytes)
        scheduleFlush()
    }

    func submitHeaders(stream: ServerStream, metadata: Metadata) {
        guard let session else { return }
        var block = ServerHeaderBlock()
        block.add(":status", "200")
        block.add("content-type", "application/grpc")
        for field in GRPCHeaders.fields(of: metadata) { block.add(field.name, field.value) }
        var provider = nghttp2_data_provider()
        provider.read_callback = { _, streamID, _, length, flags, _, user in
            guard let flags, let handler = NGHTTP2ServerConnectionHandler.from(user) else {
                return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
            }
            return handler.readData(streamID: streamID, length: length, flags: flags)
        }
        let rc = block.withNVs { nghttp2_submit_response(session, stream.id, $0, $1, &provider) }
        stream.headersSent = true
        if rc != 0 { resetStream(stream, code: NGHTTP2_INTERNAL_ERROR.rawValue) }
    }

    func submitTrailersOnly(stream: ServerStream, block: ServerHeaderBlock) {
        guard let session else { return }
        let rc = block.withNVs { nghttp2_submit_response(session, stream.id, $0, $1, nil) }
        if rc != 0 { resetStream(stream, code: NGHTTP2_INTERNAL_ERROR.rawValue) }
    }

    func resumeData(stream: ServerStream) {
        guard let session else { return }
        nghttp2_session_resume_data(session, stream.id)
    }

    private func resetStream(_ stream: ServerStream, code: UInt32) {
        guard let session else { return }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, code)
        scheduleFlush()
    }

    // MARK: shutdown, keepalive, idle

    /// GOAWAY in two steps (RFC 9113 §6.8): a notice with the maximum stream id, then after a PING round trip the
    /// final GOAWAY naming the last stream we processed. The connection closes once its streams are done.
    func beginGracefulShutdown() {
        guard !shutdownStarted, !channelClosed else { return }
        shutdownStarted = true
        guard let session else {
            context?.close(promise: nil)
            return
        }
        nghttp2_submit_shutdown_notice(session)
        var opaque = Self.shutdownPing
        withUnsafeBytes(of: &opaque) {
            _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), $0.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
        let bound = NIOLoopBound(self, eventLoop: loop)
        shutdownTimer = loop.scheduleTask(in: .seconds(1)) { bound.value.sendFinalGoAway() }
        flush()
    }

    private func sendFinalGoAway() {
        guard shutdownStarted, !finalGoAwaySent, let session else { return }
        finalGoAwaySent = true
        shutdownTimer?.cancel()
        nghttp2_submit_goaway(
            session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
            NGHTTP2_NO_ERROR.rawValue, nil, 0)
        scheduleFlush()
    }

    private func armTimers() {
        let bound = NIOLoopBound(self, eventLoop: loop)
        if let keepalive = config.keepalive, let interval = keepalive.pingInterval {
            let amount = TimeAmount(interval)
            keepaliveTask = loop.scheduleRepeatedTask(initialDelay: amount, delay: amount) { _ in
                bound.value.keepaliveTick(interval: amount, timeout: TimeAmount(keepalive.pingTimeout))
            }
        }
        armIdleTimer()
    }

    private func keepaliveTick(interval: TimeAmount, timeout: TimeAmount) {
        guard let session, pingTimeoutTask == nil, NIODeadline.now() - lastReadAt >= interval else { return }
        var opaque = Self.keepalivePing
        withUnsafeBytes(of: &opaque) {
            _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), $0.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
        let bound = NIOLoopBound(self, eventLoop: loop)
        pingTimeoutTask = loop.scheduleTask(in: timeout) {
            let handler = bound.value
            handler.logger.debug("keepalive ping timed out; closing the connection")
            handler.context?.close(promise: nil)
        }
        flush()
    }

    private func armIdleTimer() {
        guard let idle = config.idleTimeout, !channelClosed, idleTimer == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: loop)
        idleTimer = loop.scheduleTask(in: TimeAmount(idle)) {
            let handler = bound.value
            handler.idleTimer = nil
            if handler.streams.isEmpty { handler.beginGracefulShutdown() }
        }
    }
}
