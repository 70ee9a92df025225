import COpenSSL
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns the OpenSSL `SSL_CTX` for one configuration and swaps it for a fresh one when the certificate, key or CA
/// files change on disk. Files are re-checked (a `stat` each) at most once per `reloadCheckInterval`, when a
/// connection asks for the context, so an idle process does no work and a busy one a few syscalls a second. A
/// reload that fails (half-written or broken PEM, key not matching) keeps the previous context and logs the file.
///
/// Thread safety: the loaded context is immutable once built (OpenSSL allows concurrent `SSL_new` on an unmodified
/// `SSL_CTX`); the pointer to the current one and the file stamps sit behind a `Mutex`.
public final class TLSContext: Sendable {
    public let configuration: TLSConfiguration

    public enum ReloadResult: Sendable, Hashable {
        case unchanged
        case reloaded
        case failed(TLSError)
    }

    private struct State {
        var current: SSLContextBox
        var stamps: [FileStamp?]
        var lastCheck: NIODeadline
        var checking = false
        var generation = 1
    }

    private let state: Mutex<State>
    private let logger: Logger
    private let reloadCheckInterval: TimeAmount

    /// Loads the files now; throws a `TLSError` naming the file and OpenSSL's reason if any of them is unusable.
    public init(
        configuration: TLSConfiguration,
        reloadCheckInterval: TimeAmount = .seconds(1),
        logger: Logger = Logger(label: "oaas.tls")
    ) throws(TLSError) {
        self.configuration = configuration
        self.logger = logger
        self.reloadCheckInterval = reloadCheckInterval
        let stamps = Self.files(of: configuration).map(FileStamp.init(path:))
        let box = try SSLContextBox.load(configuration)
        self.state = Mutex(State(current: box, stamps: stamps, lastCheck: .now()))
    }

    /// How many contexts have been loaded (1 after init, +1 per successful reload).
    public var generation: Int { state.withLock { $0.generation } }

    /// The context a new connection should use, after re-checking the files if the interval has passed.
    func contextForNewConnection() -> SSLContextBox {
        let now = NIODeadline.now()
        let due: Bool = state.withLock { state in
            guard !state.checking, now - state.lastCheck >= reloadCheckInterval else { return false }
            state.checking = true
            state.lastCheck = now
            return true
        }
        if due { _ = checkAndReload() }
        return state.withLock { $0.current }
    }

    /// Re-checks the files now (ignoring the interval) and reloads if any changed.
    @discardableResult
    public func reloadIfChanged() -> ReloadResult {
        let proceed: Bool = state.withLock { state in
            guard !state.checking else { return false }
            state.checking = true
            state.lastCheck = .now()
            return true
        }
        guard proceed else { return .unchanged }
        return checkAndReload()
    }

    /// Runs with `checking` set (so one caller at a time does the stat/parse work, outside the lock); clears it.
    private func checkAndReload() -> ReloadResult {
        let files = Self.files(of: configuration)
        let stamps = files.map(FileStamp.init(path:))
        let changed = state.withLock { $0.stamps != stamps }
        guard changed else {
            state.withLock { $0.checking = false }
            return .unchanged
        }
        do {
            let box = try SSLContextBox.load(configuration)
            let generation = state.withLock { state in
                state.current = box
                state.stamps = stamps
                state.checking = false
                state.generation += 1
                return state.generation
            }
            logger.info("TLS certificates reloaded", metadata: ["generation": "\(generation)"])
            return .reloaded
        } catch {
            // Remember the stamps of the broken files so we neither retry nor log every second; the next write to
            // any of them changes the stamps again and triggers a new attempt.
            state.withLock { state in
                state.stamps = stamps
                state.checking = false
            }
            logger.error(
                "TLS reload failed; keeping the previous certificate",
                metadata: ["file": "\(error.file ?? "-")", "error": "\(error.message)"]
            )
            return .failed(error)
        }
    }

    private static func files(of configuration: TLSConfiguration) -> [String] {
        [configuration.certificateChainFile, configuration.privateKeyFile, configuration.trustRootsFile]
            .compactMap { $0 }
    }
}

/// Identity of a file's current content as far as `stat` can tell: a rewrite changes mtime/size, an atomic rename
/// changes the inode.
struct FileStamp: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(truncatingIfNeeded: st.st_dev)
        inode = UInt64(truncatingIfNeeded: st.st_ino)
        size = Int64(st.st_size)
        #if canImport(Darwin)
        modifiedSeconds = Int64(st.st_mtimespec.tv_sec)
        modifiedNanoseconds = Int64(st.st_mtimespec.tv_nsec)
        #else
        modifiedSeconds = Int64(st.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(st.st_mtim.tv_nsec)
        #endif
    }
}

/// One loaded `SSL_CTX` and the ALPN bytes its callbacks use. Immutable after `load`; every connection keeps a
/// strong reference to the box it was made from, so the ALPN buffer the server callback reads outlives every `SSL`
/// created from this context, even after a reload replaced it.
final class SSLContextBox: @unchecked Sendable {
    let ctx: OpaquePointer
    let isServer: Bool
    /// Client: the ALPN list in wire format for `SSL_set_alpn_protos`.
    let alpnWire: [UInt8]
    /// Server: 2-byte little-endian length + wire-format list, read by the C select callback.
    private let alpnSelectArg: UnsafeMutableRawBufferPointer?

    private init(ctx: OpaquePointer, isServer: Bool, alpnWire: [UInt8], alpnSelectArg: UnsafeMutableRawBufferPointer?) {
        self.ctx = ctx
        self.isServer = isServer
        self.alpnWire = alpnWire
        self.alpnSelectArg = alpnSelectArg
    }

    deinit {
        SSL_CTX_free(ctx)
        alpnSelectArg?.deallocate()
    }

    static func load(_ configuration: TLSConfiguration) throws(TLSError) -> SSLContextBox {
        let isServer = configuration.role == .server
        let alpnWire = try alpnWireFormat(configuration.applicationProtocols)
        if isServer, configuration.certificateChainFile == nil || configuration.privateKeyFile == nil {
            throw TLSError(.invalidConfiguration, "a TLS server needs certificateChainFile and privateKeyFile")
        }
        if (configuration.certificateChainFile == nil) != (configuration.privateKeyFile == nil) {
            throw TLSError(.invalidConfiguration, "certificateChainFile and privateKeyFile go together")
        }
        if isServer, configuration.clientCertificate != .none, configuration.trustRootsFile == nil {
            throw TLSError(.invalidConfiguration, "client certificate verification needs trustRootsFile")
        }

        ERR_clear_error()
        guard let ctx = SSL_CTX_new(isServer ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError(.resource, "SSL_CTX_new failed: \(OpenSSLError.drain())")
        }
        // From here on the box owns ctx, so every throw below frees it via deinit.
        var selectArg: UnsafeMutableRawBufferPointer?
        if isServer, !alpnWire.isEmpty {
            let arg = UnsafeMutableRawBufferPointer.allocate(byteCount: alpnWire.count + 2, alignment: 1)
            arg[0] = UInt8(truncatingIfNeeded: alpnWire.count)
            arg[1] = UInt8(truncatingIfNeeded: alpnWire.count >> 8)
            for (index, byte) in alpnWire.enumerated() { arg[index + 2] = byte }
            selectArg = arg
        }
        let box = SSLContextBox(ctx: ctx, isServer: isServer, alpnWire: alpnWire, alpnSelectArg: selectArg)

        oaas_SSL_CTX_apply_defaults(ctx, isServer ? 1 : 0)
        let minimum = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard oaas_SSL_CTX_set_min_proto_version(ctx, minimum) == 1 else {
            throw TLSError(.resource, "cannot set the minimum TLS version: \(OpenSSLError.drain())")
        }

        if let chain = configuration.certificateChainFile, let key = configuration.privateKeyFile {
            try checkReadable(chain)
            guard SSL_CTX_use_certificate_chain_file(ctx, chain) == 1 else {
                throw TLSError(.fileLoad, "cannot load certificate chain: \(OpenSSLError.drain())", file: chain)
            }
            try checkReadable(key)
            guard SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 else {
                let reasons = OpenSSLError.drain()
                let what = reasons.contains("key values mismatch")
                    ? "private key does not match the certificate" : "cannot load private key"
                throw TLSError(.fileLoad, "\(what): \(reasons)", file: key)
            }
            guard SSL_CTX_check_private_key(ctx) == 1 else {
                throw TLSError(
                    .fileLoad, "private key does not match the certificate: \(OpenSSLError.drain())", file: key)
            }
        }

        if isServer {
            if configuration.clientCertificate != .none, let roots = configuration.trustRootsFile {
                try loadRoots(ctx, roots)
                // The CA names sent in CertificateRequest, so clients holding several certificates pick the right one.
                if let names = SSL_load_client_CA_file(roots) {
                    SSL_CTX_set_client_CA_list(ctx, names)
                }
                var mode = SSL_VERIFY_PEER
                if configuration.clientCertificate == .require { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
                SSL_CTX_set_verify(ctx, mode, nil)
            } else {
                SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            }
            if let arg = selectArg?.baseAddress {
                oaas_SSL_CTX_set_alpn_select(ctx, arg.assumingMemoryBound(to: UInt8.self))
            }
        } else {
            if configuration.serverVerification == .none {
                SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            } else {
                if let roots = configuration.trustRootsFile {
                    try loadRoots(ctx, roots)
                } else if SSL_CTX_set_default_verify_paths(ctx) != 1 {
                    throw TLSError(.fileLoad, "cannot load the system trust roots: \(OpenSSLError.drain())")
                }
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
            }
        }
        ERR_clear_error()
        return box
    }

    private static func loadRoots(_ ctx: OpaquePointer, _ file: String) throws(TLSError) {
        try checkReadable(file)
        guard SSL_CTX_load_verify_file(ctx, file) == 1 else {
            throw TLSError(.fileLoad, "cannot load trust roots: \(OpenSSLError.drain())", file: file)
        }
    }

    /// A clearer message than OpenSSL's "system library" entry for the common missing/unreadable file case.
    private static func checkReadable(_ file: String) throws(TLSError) {
        if access(file, R_OK) != 0 {
            let reason = String(cString: strerror(errno))
            throw TLSError(.fileLoad, "cannot read file: \(reason)", file: file)
        }
    }

    static func alpnWireFormat(_ protocols: [String]) throws(TLSError) -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= 255 else {
                throw TLSError(.invalidConfiguration, "ALPN protocol names must be 1...255 bytes: \"\(name)\"")
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        guard wire.count <= 0xFFFF else {
            throw TLSError(.invalidConfiguration, "ALPN protocol list too long")
        }
        return wire
    }
}

enum OpenSSLError {
    /// Empties this thread's OpenSSL error queue into one readable string (oldest first).
    static func drain() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            reasons.append(string(for: code))
        }
        return reasons.isEmpty ? "unknown error" : reasons.joined(separator: "; ")
    }

    static func string(for code: UInt) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            guard let base = buffer.baseAddress else { return "error \(code)" }
            ERR_error_string_n(code, base, buffer.count)
            return String(cString: base)
        }
    }
}
