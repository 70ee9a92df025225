import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A process the benchmark started (oaas, redis-server, redis-benchmark).
///
/// Spawned with posix_spawn rather than Foundation's `Process`: a child inherits the signal mask
/// of the thread that spawns it, and Swift's concurrency threads block every signal, so a child
/// started from async code ignored SIGTERM (redis-server never shut down). Here the child gets
/// an empty mask and default handlers, as if started from a shell. Output goes to a file, never
/// a pipe, so a chatty child can't block on a full pipe while we poll it.
final class ChildProcess: Sendable {
    let name: String
    let logPath: String
    let pid: pid_t
    /// The exit status once reaped (128 + signal when killed by one).
    private let exit = Mutex<Int32?>(nil)

    init(name: String, executable: String, arguments: [String], environment: [String: String] = [:], logPath: String) throws {
        self.name = name
        self.logPath = logPath
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = env.map { strdup("\($0.key)=\($0.value)") }
        defer { (argv + envp).forEach { free($0) } }
        var child = pid_t()
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv + [nil], envp + [nil])
        guard rc == 0 else {
            throw BenchError("cannot start \(name) (\(executable)): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    var isRunning: Bool { reap() == nil }

    /// The exit status, or -1 while running.
    var exitStatus: Int32 { reap() ?? -1 }

    /// Collects the child's status without blocking; nil while it runs.
    private func reap() -> Int32? {
        exit.withLock { exit in
            if let exit { return exit }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == 0 { return nil }
            // Decodes the wait status by hand (the W* macros are not imported into Swift).
            let signal = status & 0x7F
            exit = result < 0 ? -1 : (signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
            return exit
        }
    }

    /// Waits for the process to exit by itself; false on timeout.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace`. Returns a note when it had to be killed.
    @discardableResult
    func stop(grace: Duration = .seconds(10)) async -> String? {
        guard isRunning else { return nil }
        kill(pid, SIGTERM)
        if await waitForExit(timeout: grace) { return nil }
        kill(pid, SIGKILL)
        _ = await waitForExit(timeout: .seconds(5))
        return "\(name) did not exit within \(grace) of SIGTERM and was killed"
    }

    /// The end of the child's output, for error messages.
    func logTail(maxBytes: Int = 3000) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        return String(decoding: data.suffix(maxBytes), as: UTF8.self)
    }

    /// User + system CPU seconds the process has used so far.
    func cpuSeconds() -> Double? { processCPUSeconds(pid: pid) }
}

/// CPU seconds (user + system) of a process, from /proc/PID/stat (fields 14 and 15).
func processCPUSeconds(pid: Int32) -> Double? {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    // The command name (field 2) may contain spaces; fields are counted after its closing paren.
    guard let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // fields[0] is field 3 (state), so field N is fields[N - 3].
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    return ticks > 0 ? (user + system) / ticks : nil
}

/// Runs a command to completion (bounded by `timeout`) and returns its exit status and output.
func runToCompletion(_ name: String, executable: String, arguments: [String], logPath: String, timeout: Duration) async throws -> (status: Int32, output: String) {
    let child = try ChildProcess(name: name, executable: executable, arguments: arguments, logPath: logPath)
    if !(await child.waitForExit(timeout: timeout)) {
        await child.stop(grace: .seconds(2))
        throw BenchError("\(name) did not finish within \(timeout): \(arguments.joined(separator: " "))")
    }
    await child.stop()
    return (child.exitStatus, child.logTail(maxBytes: 1 << 20))
}

/// The first executable called `name` on PATH (plus the sbin directories Debian may leave off it).
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]
    for directory in directories where !directory.isEmpty {
        let candidate = (directory as NSString).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// A fresh directory under the system temp directory.
func makeTemporaryDirectory(_ prefix: String) throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw BenchError("cannot create temporary directory \(path): \(error)")
    }
    return path
}

func removeDirectory(_ path: String) {
    do {
        try FileManager.default.removeItem(atPath: path)
    } catch {
        printError("warning: could not remove \(path): \(error)")
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

// MARK: Loopback sockets

private func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
    return address
}

/// A loopback port that was free a moment ago (the kernel picks it; we release it for the child).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = loopbackAddress(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw BenchError("bind(127.0.0.1:0) failed: errno \(errno)") }
    let named = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw BenchError("getsockname failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Sends `request` to 127.0.0.1:`port` and reads until the peer closes, `done` says the reply is
/// complete, or `timeout` passes. nil when nothing could be exchanged (e.g. not listening yet).
/// Blocking, with short timeouts: only used while waiting for a child to come up.
func loopbackExchange(port: Int, request: String, timeout: TimeInterval = 1, done: (String) -> Bool = { _ in false }) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = loopbackAddress(port: port)
    let connected = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let bytes = Array(request.utf8)
    let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    guard sent == bytes.count else { return nil }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while reply.count < 1 << 16 {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        reply.append(contentsOf: buffer[0..<count])
        if done(String(decoding: reply, as: UTF8.self)) { break }
    }
    return reply.isEmpty ? nil : String(decoding: reply, as: UTF8.self)
}

/// Whether `GET /healthz` on the port answers 200 (plain HTTP/1.1, connection closed after).
func healthzIsOK(port: Int) -> Bool {
    let reply = loopbackExchange(port: port, request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n") {
        $0.contains("\r\n\r\n")
    }
    guard let reply, let statusLine = reply.split(separator: "\r\n").first else { return false }
    return statusLine.split(separator: " ").dropFirst().first == "200"
}

/// A progress line on stderr, so stdout carries only the report.
func progress(_ line: String) {
    printError("· \(line)")
}
