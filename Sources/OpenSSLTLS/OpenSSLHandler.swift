import COpenSSL
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// TLS for one channel on the system OpenSSL: one `SSL` per channel talking to two memory BIOs, so NIO keeps owning
/// the socket. Put it first in the pipeline (server: after accept, or after a sniffer; client: before connect).
///
/// - Inbound: ciphertext in, plaintext out. All plaintext decrypted from one socket read is passed on as one buffer.
/// - Outbound: plaintext in, ciphertext out. Writes queue until `flush`, are then encrypted together and the
///   ciphertext goes out as one write + one flush (writes before the handshake completes wait for it).
/// - Fires `TLSHandshakeCompleted` as a user inbound event when the handshake is done; on failure fires a `TLSError`
///   through `errorCaught` and closes the channel (after sending OpenSSL's alert).
/// - `close` sends close_notify first; a peer's close_notify is answered and the channel closed.
///
/// Not thread-safe: all state is confined to the channel's event loop, like any `ChannelHandler`. Add it with
/// `channel.pipeline.syncOperations.addHandler(_:)` from the channel initializer.
public final class OpenSSLHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        /// Not yet added, or added to an inactive channel.
        case idle
        case handshaking
        case active
        /// close_notify sent (or received); no more application writes.
        case closing
        /// Failed or inactive.
        case closed
    }

    private let tlsContext: TLSContext
    private let serverName: String?
    private var box: SSLContextBox?
    private var ssl: OpaquePointer?
    private var readBIO: OpaquePointer?
    private var writeBIO: OpaquePointer?
    private var state: State = .idle
    /// Plaintext waiting for the handshake or for `flush`, with its promise.
    private var pendingWrites = CircularBuffer<(ByteBuffer, EventLoopPromise<Void>?)>(initialCapacity: 4)
    private var flushPending = false

    /// Ciphertext is handed to the channel in pieces of at most this size while encrypting a large write, so a
    /// multi-megabyte write does not need a second multi-megabyte copy in OpenSSL's memory BIO.
    private static let outputChunk = 256 * 1024

    /// - Parameter serverName: client only: SNI and the name/IP the server certificate must match; defaults to the
    ///   configuration's `serverName`.
    public init(context: TLSContext, serverName: String? = nil) {
        self.tlsContext = context
        self.serverName = serverName ?? context.configuration.serverName
    }

    deinit {
        if let ssl { SSL_free(ssl) }
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        do {
            try makeSSL()
        } catch {
            fail(context: context, error: error)
            return
        }
        if context.channel.isActive {
            start(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        failPendingWrites(TLSError(.closed, "TLS handler removed"))
        state = .closed
        if let ssl { SSL_free(ssl) }  // also frees both BIOs
        ssl = nil
        readBIO = nil
        writeBIO = nil
        box = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        if case .idle = state, ssl != nil {
            start(context: context)
        }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let wasHandshaking: Bool
        if case .handshaking = state { wasHandshaking = true } else { wasHandshaking = false }
        state = .closed
        failPendingWrites(TLSError(.closed, "connection closed"))
        if wasHandshaking {
            context.fireErrorCaught(TLSError(.handshakeFailed, "connection closed during the TLS handshake"))
        }
        context.fireChannelInactive()
    }

    private func makeSSL() throws(TLSError) {
        let box = tlsContext.contextForNewConnection()
        ERR_clear_error()
        guard let ssl = SSL_new(box.ctx) else {
            throw TLSError(.resource, "SSL_new failed: \(OpenSSLError.drain())")
        }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.resource, "BIO_new failed: \(OpenSSLError.drain())")
        }
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL owns both BIOs from here
        self.box = box
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO

        if box.isServer {
            SSL_set_accept_state(ssl)
            return
        }
        SSL_set_connect_state(ssl)
        if !box.alpnWire.isEmpty {
            let rc = box.alpnWire.withUnsafeBufferPointer { SSL_set_alpn_protos(ssl, $0.baseAddress, UInt32($0.count)) }
            guard rc == 0 else { throw TLSError(.resource, "cannot set ALPN: \(OpenSSLError.drain())") }
        }
        guard let name = serverName, !name.isEmpty else { return }
        let isIP = Self.isIPAddress(name)
        if !isIP {
            // RFC 6066: SNI carries host names only, never IP literals.
            guard oaas_SSL_set_tlsext_host_name(ssl, name) == 1 else {
                throw TLSError(.invalidConfiguration, "invalid server name \"\(name)\": \(OpenSSLError.drain())")
            }
        }
        if tlsContext.configuration.serverVerification == .full {
            guard let param = SSL_get0_param(ssl) else {
                throw TLSError(.resource, "SSL_get0_param failed")
            }
            let rc: Int32
            if isIP {
                rc = X509_VERIFY_PARAM_set1_ip_asc(param, name)
            } else {
                X509_VERIFY_PARAM_set_hostflags(param, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                rc = X509_VERIFY_PARAM_set1_host(param, name, 0)
            }
            guard rc == 1 else {
                throw TLSError(.invalidConfiguration, "invalid server name \"\(name)\": \(OpenSSLError.drain())")
            }
        }
    }

    private func start(context: ChannelHandlerContext) {
        state = .handshaking
        // The server waits for the ClientHello; the client sends it now.
        if !(box?.isServer ?? true) {
            advanceHandshake(context: context)
        }
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch state {
        case .closed:
            return
        case .idle:
            guard ssl != nil else { return }
            start(context: context)
        case .handshaking, .active, .closing:
            break
        }
        guard let readBIO else { return }
        var ok = true
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let chunk = Int32(clamping: bytes.count - offset)
                let written = BIO_write(readBIO, base + offset, chunk)
                if written <= 0 { ok = false; return }
                offset += Int(written)
            }
        }
        guard ok else {
            fail(context: context, error: TLSError(.resource, "BIO_write failed: \(OpenSSLError.drain())"))
            return
        }
        if case .handshaking = state {
            advanceHandshake(context: context)
        }
        switch state {
        case .active, .closing:
            readPlaintext(context: context)
        case .idle, .handshaking, .closed:
            break
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event, case .handshaking = state {
            fail(context: context, error: TLSError(.handshakeFailed, "input closed during the TLS handshake"))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        guard let ssl else { return }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            state = .active
            context.fireUserInboundEventTriggered(handshakeSummary(ssl))
            // Encrypt what waited for the handshake; this also sends the handshake's last flight, if any.
            if flushPending || !pendingWrites.isEmpty {
                encryptPendingAndFlush(context: context)
            } else {
                writeOutput(context: context, promise: nil, flush: true)
            }
            return
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            writeOutput(context: context, promise: nil, flush: true)
        default:
            let error = handshakeError(ssl)
            writeOutput(context: context, promise: nil, flush: true)  // the alert, so the peer learns why
            fail(context: context, error: error)
        }
    }

    private func handshakeError(_ ssl: OpaquePointer) -> TLSError {
        let verify = SSL_get_verify_result(ssl)
        let reasons = OpenSSLError.drain()
        if verify != X509_V_OK {
            let why = String(cString: X509_verify_cert_error_string(verify))
            return TLSError(.certificateVerificationFailed, "certificate verify failed: \(why) (\(reasons))")
        }
        if reasons.contains("peer did not return a certificate") {
            return TLSError(.certificateVerificationFailed, "peer did not present a certificate (\(reasons))")
        }
        return TLSError(.handshakeFailed, reasons)
    }

    private func handshakeSummary(_ ssl: OpaquePointer) -> TLSHandshakeCompleted {
        var alpn: String?
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        if let data, length > 0 {
            alpn = String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
        }
        var subject: String?
        var serial: String?
        if let cert = SSL_get0_peer_certificate(ssl) {
            subject = Self.cString(capacity: 1024) { oaas_X509_subject_rfc2253(cert, $0, $1) }
            serial = Self.cString(capacity: 128) { oaas_X509_serial_hex(cert, $0, $1) }
        }
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? ""
        return TLSHandshakeCompleted(
            negotiatedProtocol: alpn, peerCertificateSubject: subject, peerCertificateSerial: serial,
            protocolVersion: version)
    }

    /// Decrypts everything OpenSSL can from what has arrived and passes it on as one buffer.
    private func readPlaintext(context: ChannelHandlerContext) {
        guard let ssl, let readBIO else { return }
        // Plaintext is never longer than the ciphertext it came from.
        let pending = Int(BIO_ctrl_pending(readBIO)) + Int(SSL_pending(ssl))
        var plaintext = context.channel.allocator.buffer(capacity: max(pending, 1024))
        var peerClosed = false
        var failure: TLSError?
        // Successful calls leave the error queue empty, so clearing once before the loop keeps SSL_get_error exact.
        ERR_clear_error()
        while true {
            if plaintext.writableBytes < 512 {
                plaintext.reserveCapacity(minimumWritableBytes: 16 * 1024)
            }
            var count = 0
            var rc: Int32 = 0
            plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { bytes in
                rc = SSL_read_ex(ssl, bytes.baseAddress, bytes.count, &count)
                return rc == 1 ? count : 0
            }
            if rc == 1 { continue }
            switch SSL_get_error(ssl, rc) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                break
            case SSL_ERROR_ZERO_RETURN:
                peerClosed = true
            default:
                failure = TLSError(.protocolError, OpenSSLError.drain())
            }
            break
        }
        if plaintext.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(plaintext))
        }
        if let failure {
            writeOutput(context: context, promise: nil, flush: true)
            fail(context: context, error: failure)
            return
        }
        if peerClosed {
            guard case .active = state else {
                // We already sent close_notify (or failed): nothing more to say.
                if case .closing = state { context.close(promise: nil) }
                return
            }
            state = .closing
            failPendingWrites(TLSError(.closed, "peer closed the TLS connection"))
            sendCloseNotify(context: context)
            context.close(promise: nil)
            return
        }
        // Post-handshake messages (key updates, alerts) may have produced output.
        writeOutput(context: context, promise: nil, flush: true)
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .idle, .handshaking, .active:
            pendingWrites.append((unwrapOutboundIn(data), promise))
        case .closing, .closed:
            promise?.fail(TLSError(.closed, "write on a closed TLS connection"))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .active:
            encryptPendingAndFlush(context: context)
        case .idle, .handshaking:
            flushPending = true
        case .closing, .closed:
            break
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .input:
            context.close(mode: mode, promise: promise)
            return
        case .output, .all:
            break
        }
        switch state {
        case .active:
            state = .closing
            failPendingWrites(TLSError(.closed, "TLS connection closed before the write was flushed"))
            sendCloseNotify(context: context)
        case .idle, .handshaking:
            state = .closed
            failPendingWrites(TLSError(.closed, "TLS connection closed during the handshake"))
        case .closing, .closed:
            break
        }
        // The close_notify write was flushed above, so NIO has already tried to send it; if the socket was full it
        // is dropped with the connection, which is fine for a courtesy message.
        context.close(mode: mode, promise: promise)
    }

    private func sendCloseNotify(context: ChannelHandlerContext) {
        guard let ssl else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
        writeOutput(context: context, promise: nil, flush: true)
    }

    /// Encrypts all queued writes and sends the ciphertext as one write + flush carrying all their promises.
    private func encryptPendingAndFlush(context: ChannelHandlerContext) {
        flushPending = false
        guard let ssl, let writeBIO else { return }
        var combined: EventLoopPromise<Void>?
        ERR_clear_error()  // once: successful writes leave the queue empty
        while let (buffer, promise) = pendingWrites.popFirst() {
            var remaining = buffer
            while remaining.readableBytes > 0 {
                var written = 0
                let rc = remaining.withUnsafeReadableBytes { bytes in
                    SSL_write_ex(ssl, bytes.baseAddress, min(bytes.count, Self.outputChunk), &written)
                }
                if rc == 1 {
                    remaining.moveReaderIndex(forwardBy: written)
                    if Int(BIO_ctrl_pending(writeBIO)) >= Self.outputChunk {
                        // Only large writes get here: let the socket start on them instead of holding it all.
                        writeOutput(context: context, promise: nil, flush: true)
                    }
                    continue
                }
                let error = SSL_get_error(ssl, rc)
                let failure = TLSError(.protocolError, "SSL_write failed (\(error)): \(OpenSSLError.drain())")
                // With memory BIOs and renegotiation off there is no legitimate way to block here.
                promise?.fail(failure)
                combined?.fail(failure)
                writeOutput(context: context, promise: nil, flush: true)
                fail(context: context, error: failure)
                return
            }
            if let promise {
                if let existing = combined {
                    existing.futureResult.cascade(to: promise)
                } else {
                    combined = promise
                }
            }
        }
        writeOutput(context: context, promise: combined, flush: true)
    }

    /// Moves all ciphertext OpenSSL produced into one buffer and writes it (optionally flushing).
    private func writeOutput(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, flush: Bool) {
        guard let writeBIO else {
            promise?.succeed()
            return
        }
        let pending = Int(BIO_ctrl_pending(writeBIO))
        guard pending > 0 else {
            promise?.succeed()
            if flush { context.flush() }
            return
        }
        var output = context.channel.allocator.buffer(capacity: pending)
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            let read = BIO_read(writeBIO, bytes.baseAddress, Int32(clamping: pending))
            return max(0, Int(read))
        }
        if flush {
            context.writeAndFlush(wrapOutboundOut(output), promise: promise)
        } else {
            context.write(wrapOutboundOut(output), promise: promise)
        }
    }

    // MARK: Failure

    private func fail(context: ChannelHandlerContext, error: TLSError) {
        if case .closed = state { return }
        state = .closed
        failPendingWrites(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failPendingWrites(_ error: any Error) {
        flushPending = false
        while let (_, promise) = pendingWrites.popFirst() {
            promise?.fail(error)
        }
    }

    // MARK: Helpers

    private static func cString(capacity: Int, _ body: (UnsafeMutablePointer<CChar>, Int32) -> Int32) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
            guard let base = buffer.baseAddress else { return nil }
            let length = body(base, Int32(capacity))
            guard length >= 0 else { return nil }
            return String(cString: base)
        }
    }

    static func isIPAddress(_ name: String) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 4) { scratch in
            guard let base = scratch.baseAddress else { return false }
            return inet_pton(AF_INET, name, base) == 1 || inet_pton(AF_INET6, name, base) == 1
        }
    }
}

@available(*, unavailable)
extension OpenSSLHandler: Sendable {}

extension TLSContext {
    /// A handler for one new channel; `serverName` overrides the configuration's (client only).
    public func makeHandler(serverName: String? = nil) -> OpenSSLHandler {
        OpenSSLHandler(context: self, serverName: serverName)
    }
}
