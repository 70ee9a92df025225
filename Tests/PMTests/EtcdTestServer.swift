import AsyncHTTPClient
import Foundation
import NIOCore
import PM
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real single-member `etcd` process for tests, on free loopback ports in its own temporary directory.
///
/// One shared server serves the backend suite (each store gets its own key prefix); tests that restart etcd,
/// change its auth settings or need TLS start a private one. Every server is SIGKILLed, reaped and its directory removed at
/// process exit, and a watchdog shell does the same if the test process dies without running exit handlers.
final class EtcdTestServer: Sendable {
    /// `/usr/bin/etcd` from Debian's etcd-server (installed by `make deps`), or any `etcd` on PATH.
    static let binary: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/etcd" } + ["/usr/bin/etcd", "/usr/local/bin/etcd"]
        return candidates.first { access($0, X_OK) == 0 }
    }()
    static var isInstalled: Bool { binary != nil }
    static let skipReason: Comment = "etcd binary not found (run `make deps`, which installs etcd-server): etcd backend tests skipped"
    /// The TLS test makes its CA and certificates with the `openssl` tool.
    static let openssl: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { access($0, X_OK) == 0 }
    static let tlsSkipReason: Comment = "etcd or openssl not found: etcd TLS test skipped"

    /// The server shared by the backend suite, started on first use.
    static let shared = Task<EtcdTestServer, any Error> { try await EtcdTestServer.start() }

    let directory: String
    let clientPort: Int
    let peerPort: Int
    let tls: Bool
    private let running = Mutex<Running?>(nil)

    private struct Running {
        var pid: pid_t
        var watchdog: pid_t?
    }

    var endpoint: String { "\(tls ? "https" : "http")://127.0.0.1:\(clientPort)" }
    var logPath: String { "\(directory)/etcd.log" }
    /// PEM files of a TLS server: `ca.pem`, `server.{pem,key}` (127.0.0.1), `client.{pem,key}`, all signed by the CA.
    func certificate(_ name: String) -> String { "\(directory)/certs/\(name)" }

    /// A store configuration for this server; a TLS server is reached with its CA and the client certificate.
    func config(prefix: String, endpoints: [String]? = nil, username: String? = nil, password: String? = nil, tls custom: EtcdConfig.TLS? = nil) -> EtcdConfig {
        let mutual = EtcdConfig.TLS(caCertPath: certificate("ca.pem"), clientCertPath: certificate("client.pem"), clientKeyPath: certificate("client.key"))
        return EtcdConfig(
            endpoints: endpoints ?? [endpoint],
            keyPrefix: prefix,
            timeout: .seconds(5),
            username: username,
            password: password,
            tls: custom ?? (tls ? mutual : nil)
        )
    }

    private init(directory: String, clientPort: Int, peerPort: Int, tls: Bool) {
        self.directory = directory
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.tls = tls
    }

    /// Starts etcd and waits until it serves requests; a port race with another process is retried.
    static func start(tls: Bool = false) async throws -> EtcdTestServer {
        guard let binary else { throw TestServerError("etcd is not installed") }
        var lastError: any Error = TestServerError("etcd did not start")
        for _ in 0..<3 {
            let ports = try FreePorts.take(2)
            let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("oaas-etcd-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let server = EtcdTestServer(directory: directory, clientPort: ports[0], peerPort: ports[1], tls: tls)
            Cleanup.register(server)
            do {
                if tls { try server.makeCertificates() }
                try await server.launch(binary)
                return server
            } catch let error as TestServerError where error.exitedEarly {
                // Most likely a port taken between choosing and binding it: new ports, new directory.
                lastError = error
                server.destroy()
            } catch {
                server.destroy()
                throw error
            }
        }
        throw lastError
    }

    /// Stops etcd (SIGTERM, then SIGKILL after a grace period) and starts it again on the same data and ports.
    func restart() async throws {
        guard let binary = Self.binary else { throw TestServerError("etcd is not installed") }
        await stop(grace: .seconds(5))
        try await launch(binary)
    }

    /// SIGKILLs and reaps the process (and its watchdog) and removes the directory. Idempotent.
    func destroy() {
        forceStop()
        try? FileManager.default.removeItem(atPath: directory)
        Cleanup.unregister(self)
    }

    private func launch(_ binary: String) async throws {
        let scheme = tls ? "https" : "http"
        let client = "\(scheme)://127.0.0.1:\(clientPort)"
        let peer = "http://127.0.0.1:\(peerPort)"
        var arguments = [
            "--name", "default", "--data-dir", "\(directory)/data",
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "default=\(peer)",
            "--logger", "zap", "--log-level", "warn",
        ]
        if tls {
            // Client certificates are required, so the store's client-certificate settings are exercised too.
            arguments += [
                "--cert-file", certificate("server.pem"), "--key-file", certificate("server.key"),
                "--client-cert-auth", "--trusted-ca-file", certificate("ca.pem"),
            ]
        }
        let pid = try Spawn.run(binary, arguments, output: logPath)
        running.withLock { $0 = Running(pid: pid) }
        let watchdog = try? Spawn.run("/bin/sh", [
            "-c", #"while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null; rm -rf "$3""#,
            "oaas-etcd-watchdog", "\(getpid())", "\(pid)", directory,
        ], output: nil)
        running.withLock { $0?.watchdog = watchdog }
        try await waitUntilReady(pid: pid)
    }

    /// A P-256 CA, a server certificate for 127.0.0.1 and a client certificate (etcd's own `--auto-tls` makes a
    /// P-521 key, which BoringSSL does not accept). The server certificate is also a client one: etcd's gateway
    /// dials its own gRPC port with it.
    private func makeCertificates() throws {
        guard let openssl = Self.openssl else { throw TestServerError("openssl is not installed") }
        let dir = "\(directory)/certs"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n".write(toFile: "\(dir)/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: "\(dir)/client.ext", atomically: true, encoding: .utf8)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        var steps: [[String]] = [["req", "-x509"] + key + ["-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.pem", "-days", "2", "-subj", "/CN=oaas-test-ca"]]
        for name in ["server", "client"] {
            steps.append(["req"] + key + ["-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr", "-subj", "/CN=\(name)"])
            steps.append([
                "x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "\(dir)/\(name).ext", "-out", "\(dir)/\(name).pem",
            ])
        }
        for step in steps {
            let pid = try Spawn.run(openssl, step, output: "\(dir)/openssl.log")
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            guard status == 0 else { throw TestServerError("openssl \(step.prefix(2).joined(separator: " ")) failed (status \(status))") }
        }
    }

    private func waitUntilReady(pid: pid_t) async throws {
        var settings = config(prefix: "/probe")
        settings.timeout = .milliseconds(500)
        let probe = try EtcdKVStore(config: settings)
        let failure = await poll(probe, pid: pid)
        await probe.shutdown()
        if var failure {
            forceStop()
            failure.description += ": \(logTail())"
            throw failure
        }
    }

    /// nil once etcd answers; otherwise why it never did.
    private func poll(_ probe: EtcdKVStore, pid: pid_t) async -> TestServerError? {
        let deadline = ContinuousClock.now + .seconds(15)
        var lastError = ""
        while true {
            do {
                try await probe.health()
                return nil
            } catch {
                lastError = "\(error)"
            }
            if hasExited(pid) { return TestServerError("etcd exited during start-up", exitedEarly: true) }
            if ContinuousClock.now > deadline { return TestServerError("etcd did not answer within 15 s (\(lastError))") }
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                return TestServerError("etcd start-up cancelled")
            }
        }
    }

    private func hasExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        // Reaped here, so stop() must not wait for it again.
        running.withLock { if $0?.pid == pid { $0?.pid = 0 } }
        return true
    }

    /// Graceful stop for the restart test, bounded by `grace`.
    private func stop(grace: Duration) async {
        guard let current = running.withLock({ $0 }) else { return }
        if current.pid > 0 {
            Glibc.kill(current.pid, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while !hasExited(current.pid), ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        forceStop()
    }

    private func forceStop() {
        guard let current = running.withLock({ state -> Running? in
            defer { state = nil }
            return state
        }) else { return }
        for pid in [current.pid, current.watchdog ?? 0] where pid > 0 {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        }
    }

    private func logTail() -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log)" }
        return String(text.suffix(1500))
    }
}

struct TestServerError: Error, CustomStringConvertible {
    var description: String
    /// etcd quit by itself while starting (typically a port that was taken meanwhile), so another try may work.
    var exitedEarly = false
    init(_ description: String, exitedEarly: Bool = false) {
        self.description = description
        self.exitedEarly = exitedEarly
    }
}

/// Raw calls to etcd's JSON gateway, for setting a server up (auth) and for checking where keys landed.
enum EtcdRaw {
    static func post(_ endpoint: String, _ path: String, _ json: [String: Any], token: String? = nil) async throws -> (status: Int, body: [String: Any]) {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: token) }
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let body = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any] ?? [:]
        return (Int(response.status.code), body)
    }

    static func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// Every etcd key starting with `prefix`, decoded, in key order.
    static func keys(_ endpoint: String, prefix: String) async throws -> [String] {
        var end = Array(prefix.utf8)
        end[end.count - 1] += 1
        let (_, body) = try await post(endpoint, "/v3/kv/range", ["key": b64(prefix), "range_end": Data(end).base64EncodedString(), "keys_only": true])
        let kvs = body["kvs"] as? [[String: Any]] ?? []
        return kvs.compactMap { ($0["key"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Creates `root` with password `password` and turns authentication on; returns nothing, throws on any failure.
    static func enableAuth(_ endpoint: String, password: String) async throws {
        for (path, json) in [
            ("/v3/auth/role/add", ["name": "root"]),
            ("/v3/auth/user/add", ["name": "root", "password": password]),
            ("/v3/auth/user/grant", ["user": "root", "role": "root"]),
            ("/v3/auth/enable", [:]),
        ] as [(String, [String: Any])] {
            let (status, body) = try await post(endpoint, path, json)
            guard status == 200 else { throw TestServerError("\(path): HTTP \(status) \(body)") }
        }
    }

    static func token(_ endpoint: String, password: String) async throws -> String {
        let (_, body) = try await post(endpoint, "/v3/auth/authenticate", ["name": "root", "password": password])
        guard let token = body["token"] as? String else { throw TestServerError("no token: \(body)") }
        return token
    }
}

/// Loopback ports that were free a moment ago and have not been handed out in this process before.
enum FreePorts {
    private static let given = Mutex<Set<Int>>([])

    static func take(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        while ports.count < count {
            // Holding each socket until all are chosen keeps the kernel from returning the same port twice.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestServerError("socket() failed: errno \(errno)") }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard bound else { throw TestServerError("bind() failed: errno \(errno)") }
            let port = Int(UInt16(bigEndian: address.sin_port))
            if given.withLock({ $0.insert(port).inserted }) { ports.append(port) }
        }
        return ports
    }
}

/// Starts children with a clean signal state: Swift concurrency threads block signals, and a spawned child
/// would otherwise inherit that mask and ignore SIGTERM.
enum Spawn {
    static func run(_ path: String, _ arguments: [String], output: String?) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // etcd reads ETCD_* variables as flags; the test environment must not configure it.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ETCD_") }.map { "\($0.key)=\($0.value)" }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw TestServerError("posix_spawn \(path) failed: \(String(cString: strerror(result)))") }
        return pid
    }
}

/// Kills every server still running when the test process exits.
enum Cleanup {
    private static let servers = Mutex<[ObjectIdentifier: EtcdTestServer]>([:])
    private static let installed: Void = {
        _ = atexit { Cleanup.runAll() }
    }()

    static func register(_ server: EtcdTestServer) {
        _ = installed
        servers.withLock { $0[ObjectIdentifier(server)] = server }
    }

    static func unregister(_ server: EtcdTestServer) {
        servers.withLock { $0[ObjectIdentifier(server)] = nil }
    }

    private static func runAll() {
        let all = servers.withLock { Array($0.values) }
        all.forEach { $0.destroy() }
    }
}
