import CNGHTTP2
import GRPCCore
import Logging
import NIOCore

/// One HTTP/2 connection to the server: a NIO channel handler that owns a client-mode `nghttp2_session`.
///
/// Everything mutable here, and in the `ClientStream`s it serves, is confined to `eventLoop` (the channel's loop):
/// nghttp2 callbacks run inside `nghttp2_session_mem_recv`/`mem_send`, which are only called from channel events or
/// from tasks executed on that loop. Bytes produced by nghttp2 after a read batch or a round of application writes
/// are collected into one buffer and written with a single flush.
final class ClientConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Settings: Sendable {
        var authority: String
        var userAgent: String
        var initialStreamWindowBytes: Int
        var connectionWindowBytes: Int
        var keepalive: NGHTTP2ClientTransport.Config.Keepalive
        var idleTimeout: Duration?
    }

    let eventLoop: any EventLoop
    let executor: EventLoopTaskExecutor
    private let settings: Settings
    private let logger: Logger
    /// Succeeds when the server's first SETTINGS frame has arrived: streams may be opened.
    let ready: EventLoopPromise<Void>
    /// Succeeds when the connection stops taking new streams (GOAWAY either way, idle timeout, loss).
    let retired: EventLoopPromise<Void>
    /// Succeeds when the channel has closed.
    let closed: EventLoopPromise<Void>

    /// Called (on the loop) when the connection stops taking new streams, so the transport can route new streams
    /// elsewhere at once. Set before the handler is added to a channel.
    var onRetire: (@Sendable () -> Void)?

    private enum Phase {
        case starting
        case ready
        case draining
        case closed
    }

    private var phase = Phase.starting
    private var context: ChannelHandlerContext?
    private var session: OpaquePointer?
    private var streams: [Int32: ClientStream] = [:]
    private var output = ByteBuffer()
    private var inRead = false
    private var flushScheduled = false
    private var idleTimer: Scheduled<Void>?
    private var pingTimer: RepeatedTask?
    private var pingTimeout: Scheduled<Void>?

    init(eventLoop: any EventLoop, settings: Settings, logger: Logger) {
        self.eventLoop = eventLoop
        executor = EventLoopTaskExecutor(eventLoop)
        self.settings = settings
        self.logger = logger
        ready = eventLoop.makePromise()
        retired = eventLoop.makePromise()
        closed = eventLoop.makePromise()
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        output = context.channel.allocator.buffer(capacity: 16 * 1024)
        guard makeSession() else {
            ready.fail(RPCError(code: .internalError, message: "could not create an nghttp2 session"))
            context.close(promise: nil)
            return
        }
        if context.channel.isActive { channelBecameActive(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        channelBecameActive(context: context)
        context.fireChannelActive()
    }

    private func channelBecameActive(context: ChannelHandlerContext) {
        flush()
        startKeepalive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let session else { return }
        inRead = true
        let result = buffer.withUnsafeReadableBytes { bytes -> Int in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
            return nghttp2_session_mem_recv(session, base, bytes.count)
        }
        if result < 0 {
            // nghttp2 has queued a GOAWAY for the peer's protocol violation where it could; send it and close.
            logger.debug("nghttp2 receive failed", metadata: ["error": "\(Self.describe(error: Int32(result)))"])
            inRead = false
            flush()
            closeChannel()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inRead = false
        flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown(RPCError(code: .unavailable, message: "the connection to the server was lost"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown(RPCError(code: .unavailable, message: "the connection to the server was closed"))
        self.context = nil
    }

    private func tearDown(_ error: RPCError) {
        guard phase != .closed else { return }
        phase = .closed
        let open = streams
        streams.removeAll()
        for stream in open.values {
            stream.fail(error)
            stream.sessionClosed(errorCode: NGHTTP2_NO_ERROR.rawValue)
        }
        if let session {
            nghttp2_session_del(session)
            self.session = nil
        }
        idleTimer?.cancel()
        pingTimer?.cancel()
        pingTimeout?.cancel()
        ready.fail(error)
        if let onRetire {
            self.onRetire = nil
            onRetire()
        }
        retired.succeed()
        closed.succeed()
    }

    private func closeChannel() {
        context?.close(promise: nil)
    }

    // MARK: - Streams (called on the loop)

    /// Submits a stream's request HEADERS. Returns an error when the connection cannot take the stream.
    func open(_ stream: ClientStream, metadata: Metadata) -> RPCError? {
        guard phase == .ready, let session else {
            return RPCError(code: .unavailable, message: "the connection is not accepting new streams")
        }
        var fields: [(name: String, value: String)] = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/" + stream.descriptor.fullyQualifiedMethod),
            (":authority", settings.authority),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("user-agent", settings.userAgent),
        ]
        fields.append(contentsOf: GRPCHeaders.fields(of: metadata))
        let streamID = Self.withNameValues(fields) { nva, count -> Int32 in
            var provider = nghttp2_data_provider()
            provider.source = nghttp2_data_source(ptr: nil)
            provider.read_callback = { session, streamID, _, length, flags, _, userData in
                guard let userData, let flags else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
                return ClientConnection.from(userData).readOutbound(streamID: streamID, maxLength: length, flags: flags)
            }
            return nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        if streamID < 0 {
            if streamID == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE.rawValue { retire() }
            return RPCError(
                code: .unavailable,
                message: "could not open a stream: \(Self.describe(error: streamID))")
        }
        stream.didSubmit(streamID: streamID)
        streams[streamID] = stream
        idleTimer?.cancel()
        idleTimer = nil
        scheduleFlush()
        return nil
    }

    func resumeData(_ stream: ClientStream) {
        guard let session else { return }
        _ = nghttp2_session_resume_data(session, stream.streamID)
    }

    func resetStream(_ stream: ClientStream, errorCode: nghttp2_error_code) {
        guard let session, stream.streamID > 0 else { return }
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.streamID, errorCode.rawValue)
        scheduleFlush()
    }

    /// Returns flow-control credit; nghttp2 sends WINDOW_UPDATE when enough has accumulated. For a stream that is
    /// already closed nghttp2 still counts the bytes towards the connection window.
    func consume(_ stream: ClientStream, bytes: Int) {
        guard let session, bytes > 0 else { return }
        if stream.isOpenInSession {
            _ = nghttp2_session_consume(session, stream.streamID, bytes)
        } else {
            _ = nghttp2_session_consume_connection(session, bytes)
        }
        scheduleFlush()
    }

    /// Stops taking streams, tells the server (GOAWAY NO_ERROR) and closes once open streams finish.
    func beginGracefulShutdown() {
        guard phase == .starting || phase == .ready, let session else { return }
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, NGHTTP2_NO_ERROR.rawValue, nil, 0)
        retire()
        scheduleFlush()
        closeIfDrained()
    }

    /// Closes the connection now; open streams fail with UNAVAILABLE.
    func close() {
        closeChannel()
    }

    private func retire() {
        if phase == .starting || phase == .ready { phase = .draining }
        if let onRetire {
            self.onRetire = nil
            onRetire()
        }
        ready.fail(RPCError(code: .unavailable, message: "the connection closed before it was ready"))
        retired.succeed()
        idleTimer?.cancel()
        idleTimer = nil
    }

    private func closeIfDrained() {
        guard phase == .draining, streams.isEmpty else { return }
        flush()
        closeChannel()
    }

    // MARK: - Writing

    /// Collects nghttp2's output at the end of this loop tick (or of the current read batch) into one write.
    func scheduleFlush() {
        if inRead || flushScheduled { return }
        flushScheduled = true
        eventLoop.execute { self.flush() }
    }

    private func flush() {
        flushScheduled = false
        guard let session, let context else { return }
        while true {
            var chunk: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &chunk)
            if count < 0 {
                logger.debug("nghttp2 send failed", metadata: ["error": "\(Self.describe(error: Int32(count)))"])
                closeChannel()
                return
            }
            guard count > 0, let chunk else { break }
            output.writeBytes(UnsafeRawBufferPointer(start: chunk, count: count))
        }
        if output.readableBytes > 0 {
            context.writeAndFlush(wrapOutboundOut(output), promise: nil)
            output.clear()
        }
        if nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 {
            closeChannel()
        }
    }

    // MARK: - nghttp2 callbacks

    private static func from(_ userData: UnsafeMutableRawPointer) -> ClientConnection {
        Unmanaged<ClientConnection>.fromOpaque(userData).takeUnretainedValue()
    }

    private func makeSession() -> Bool {
        var callbacksPointer: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacksPointer) == 0, let callbacks = callbacksPointer else {
            return false
        }
        defer { nghttp2_session_callbacks_del(callbacks) }

        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame, let userData else { return 0 }
            ClientConnection.from(userData).streams[frame.pointee.hd.stream_id]?.beginHeaders()
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, let userData, let name, let value else { return 0 }
            let connection = ClientConnection.from(userData)
            connection.streams[frame.pointee.hd.stream_id]?.header(
                name: UnsafeRawBufferPointer(start: name, count: nameLength),
                value: UnsafeRawBufferPointer(start: value, count: valueLength))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame, let userData else { return 0 }
            return ClientConnection.from(userData).frameReceived(frame)
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, userData in
            guard let userData, let data else { return 0 }
            let connection = ClientConnection.from(userData)
            guard let stream = connection.streams[streamID] else {
                // Not ours any more (reset by us): give the connection window back.
                if let session = connection.session { _ = nghttp2_session_consume_connection(session, length) }
                return 0
            }
            if let code = stream.receiveData(UnsafeRawBufferPointer(start: data, count: length)) {
                connection.resetStream(stream, errorCode: code)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            guard let userData else { return 0 }
            ClientConnection.from(userData).streamClosed(streamID, errorCode: errorCode)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks) { _, frame, libError, userData in
            guard let frame, let userData else { return 0 }
            let connection = ClientConnection.from(userData)
            if frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
               let stream = connection.streams.removeValue(forKey: frame.pointee.hd.stream_id) {
                stream.fail(RPCError(
                    code: .unavailable,
                    message: "the request could not be sent: \(ClientConnection.describe(error: libError))"))
                stream.sessionClosed(errorCode: NGHTTP2_REFUSED_STREAM.rawValue)
                connection.streamsChanged()
            }
            return 0
        }
        nghttp2_session_callbacks_set_send_data_callback(callbacks) { _, frame, frameHeader, length, _, userData in
            guard let frame, let frameHeader, let userData else { return Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
            return ClientConnection.from(userData).sendData(
                streamID: frame.pointee.hd.stream_id, frameHeader: frameHeader, length: length)
        }

        var optionPointer: OpaquePointer?
        guard nghttp2_option_new(&optionPointer) == 0, let option = optionPointer else { return false }
        defer { nghttp2_option_del(option) }
        // Window updates follow what the caller has read (see ClientStream), not what arrived.
        nghttp2_option_set_no_auto_window_update(option, 1)

        var sessionPointer: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        guard nghttp2_session_client_new2(&sessionPointer, callbacks, userData, option) == 0,
              let session = sessionPointer
        else { return false }
        self.session = session

        let streamWindow = UInt32(clamping: min(settings.initialStreamWindowBytes, Int(Int32.max)))
        var entries = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: streamWindow),
        ]
        guard nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count) == 0 else {
            return false
        }
        let connectionWindow = Int32(clamping: settings.connectionWindowBytes)
        if connectionWindow > 65_535 {
            _ = nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, connectionWindow)
        }
        return true
    }

    private func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let header = frame.pointee.hd
        let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(header.type) {
        case NGHTTP2_HEADERS.rawValue:
            if let stream = streams[header.stream_id], let code = stream.endHeaders(endStream: endStream) {
                resetStream(stream, errorCode: code)
            }
        case NGHTTP2_DATA.rawValue:
            guard let stream = streams[header.stream_id] else { break }
            let padding = frame.pointee.data.padlen
            if padding > 0, let session { _ = nghttp2_session_consume(session, header.stream_id, padding) }
            if endStream { stream.dataEndedStream() }
        case NGHTTP2_SETTINGS.rawValue:
            if header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0, phase == .starting {
                phase = .ready
                ready.succeed()
                streamsChanged()
            }
        case NGHTTP2_GOAWAY.rawValue:
            // nghttp2 closes streams above last-stream-id with REFUSED_STREAM (UNAVAILABLE, safe to retry);
            // the others run to completion. New streams go to a new connection.
            logger.debug("GOAWAY received", metadata: [
                "last_stream_id": "\(frame.pointee.goaway.last_stream_id)",
                "error_code": "\(frame.pointee.goaway.error_code)",
            ])
            retire()
            // Never tear the session down inside an nghttp2 callback.
            eventLoop.execute { self.closeIfDrained() }
        case NGHTTP2_PING.rawValue:
            if header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 {
                pingTimeout?.cancel()
                pingTimeout = nil
            }
        default:
            break
        }
        return 0
    }

    private func streamClosed(_ streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        stream.sessionClosed(errorCode: errorCode)
        streamsChanged()
    }

    private func streamsChanged() {
        guard streams.isEmpty else { return }
        switch phase {
        case .draining:
            // Close after the current nghttp2 call returns: never tear the session down inside a callback.
            eventLoop.execute { self.closeIfDrained() }
        case .ready:
            if let idleTimeout = settings.idleTimeout, idleTimer == nil {
                idleTimer = eventLoop.scheduleTask(in: Self.timeAmount(idleTimeout)) {
                    self.idleTimer = nil
                    if self.streams.isEmpty { self.beginGracefulShutdown() }
                }
            }
        case .starting, .closed:
            break
        }
    }

    private func readOutbound(streamID: Int32, maxLength: Int, flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let stream = streams[streamID] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        guard let (length, endOfStream) = stream.readOutbound(maxLength: maxLength) else {
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        var value = NGHTTP2_DATA_FLAG_NO_COPY.rawValue
        if endOfStream { value |= NGHTTP2_DATA_FLAG_EOF.rawValue }
        flags.pointee |= value
        return length
    }

    /// NGHTTP2_DATA_FLAG_NO_COPY: the frame header comes from nghttp2, the payload straight from the stream's
    /// pending buffer into the connection's output (one copy). Earlier chunks of `mem_send` are already in `output`.
    private func sendData(streamID: Int32, frameHeader: UnsafePointer<UInt8>, length: Int) -> Int32 {
        guard let stream = streams[streamID] else { return Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
        output.writeBytes(UnsafeRawBufferPointer(start: frameHeader, count: 9))
        stream.sendData(length: length, into: &output)
        return 0
    }

    // MARK: - Keepalive

    private func startKeepalive() {
        guard let interval = settings.keepalive.pingInterval, pingTimer == nil else { return }
        let amount = Self.timeAmount(interval)
        pingTimer = eventLoop.scheduleRepeatedTask(initialDelay: amount, delay: amount) { _ in
            self.sendKeepalivePing()
        }
    }

    private func sendKeepalivePing() {
        guard let session, phase == .ready || phase == .draining, pingTimeout == nil else { return }
        guard !streams.isEmpty || settings.keepalive.permitWithoutCalls else { return }
        guard nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil) == 0 else { return }
        pingTimeout = eventLoop.scheduleTask(in: Self.timeAmount(settings.keepalive.pingTimeout)) {
            self.logger.debug("keepalive ping was not acknowledged in time; closing the connection")
            self.pingTimeout = nil
            self.closeChannel()
        }
        scheduleFlush()
    }

    // MARK: - Helpers

    /// Calls `body` with the fields as an `nghttp2_nv` array; nghttp2 copies names and values during the call.
    private static func withNameValues<R>(
        _ fields: [(name: String, value: String)],
        _ body: (UnsafePointer<nghttp2_nv>?, Int) -> R
    ) -> R {
        var storage = [UInt8]()
        storage.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count })
        var offsets: [(name: Int, nameLength: Int, value: Int, valueLength: Int)] = []
        offsets.reserveCapacity(fields.count)
        for field in fields {
            let name = storage.count
            storage.append(contentsOf: field.name.utf8)
            let value = storage.count
            storage.append(contentsOf: field.value.utf8)
            offsets.append((name, value - name, value, storage.count - value))
        }
        return storage.withUnsafeMutableBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return body(nil, 0) }
            let nva = offsets.map { entry in
                nghttp2_nv(
                    name: base + entry.name, value: base + entry.value,
                    namelen: entry.nameLength, valuelen: entry.valueLength,
                    flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return nva.withUnsafeBufferPointer { body($0.baseAddress, $0.count) }
        }
    }

    static func describe(error code: Int32) -> String {
        guard let text = nghttp2_strerror(code) else { return "nghttp2 error \(code)" }
        return String(cString: text)
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000)
    }
}
