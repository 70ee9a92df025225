import Foundation
import GRPCCore
import GRPCServing
import GRPCNIOTransportHTTP2
import Logging
import OaaSProto
import ServiceLifecycle
import Synchronization
import Testing
@testable import Router

typealias RouterClient = Oaas_Router_RouterService.Client<HTTP2ClientTransport.Posix>

let testLogger: Logger = {
    var logger = Logger(label: "router-tests")
    logger.logLevel = .critical
    return logger
}()

/// A router served on a loopback port, with its background services running.
struct RunningRouter: Sendable {
    let role: RouterRole
    let port: Int
    let metrics: RecordingMetrics
    var url: String { "http://127.0.0.1:\(port)" }
}

extension RouterConfig {
    /// Short timings for tests.
    static func test(port: Int = 0, env: String = "default", peers: [String] = [], leaseTTL: Duration = .seconds(10),
                     buffer: Int = 1024, maxHops: UInt32 = 4) -> RouterConfig {
        RouterConfig(port: port, env: env, peers: peers, leaseTTL: leaseTTL, subscriberBuffer: buffer,
                     forwardTimeout: .seconds(5), maxHops: maxHops, watchInterval: .milliseconds(100))
    }
}

/// Serves a router for the duration of `body`, the way the launcher does: the gRPC server and the role's services
/// in one ServiceGroup, stopped by a graceful shutdown (the server first, then the services).
func withRouter<T: Sendable>(_ config: RouterConfig = .test(), _ body: (RunningRouter) async throws -> T) async throws -> T {
    let metrics = RecordingMetrics()
    let role = try RouterRole(config: config, logger: testLogger, metricsFactory: metrics)
    let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: config.port), transportSecurity: .plaintext)
    let server = ServerService(server: GRPCServer(transport: transport, services: role.grpcServices))
    var groupLogger = Logger(label: "router-tests.group")
    groupLogger.logLevel = ProcessInfo.processInfo.environment["OAAS_TEST_TRACE"] != nil ? .debug : .critical
    groupLogger[metadataKey: "test"] = "\(Test.current?.name ?? "-")"
    let serviceGroup = ServiceGroup(services: role.services + [server], logger: groupLogger)
    let stopping = Flag()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            // A router that stops by itself would leave the test's calls waiting for a server that is gone.
            do {
                try await serviceGroup.run()
                if !stopping.isSet { Issue.record("the router's services stopped before the test ended") }
            } catch {
                if !stopping.isSet { Issue.record("the router's services failed: \(error)") }
                throw error
            }
        }
        do {
            trace("withRouter: awaiting address")
            let address = try await transport.listeningAddress
            trace("withRouter: listening")
            let router = RunningRouter(role: role, port: try #require(address.ipv4?.port), metrics: metrics)
            let result = try await body(router)
            trace("withRouter: body done")
            stopping.set()
            await serviceGroup.triggerGracefulShutdown()
            trace("withRouter: shutdown triggered")
            try await group.waitForAll()
            trace("withRouter: stopped")
            return result
        } catch {
            stopping.set()
            await serviceGroup.triggerGracefulShutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// A gRPC server as a lifecycle service (the launcher's RoleServer, without HTTP).
struct ServerService: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>

    func run() async throws {
        try await server.serve(drainingWithin: .seconds(5)) {
            trace("server drain expired")
        }
        trace("server.serve returned")
    }
}

/// A client of the router at `port` for the duration of `body`. Every call has a deadline, so a call that
/// cannot reach the router fails the test with a status instead of waiting for the suite's time limit.
func withRouterClient<T: Sendable>(_ port: Int, _ body: (RouterClient) async throws -> T) async throws -> T {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext,
        serviceConfig: ServiceConfig(methodConfig: [MethodConfig(names: [MethodConfig.Name(service: "")], timeout: .seconds(40))]))
    return try await withGRPCClient(transport: transport) { client in
        try await body(RouterClient(wrapping: client))
    }
}

/// Serves `services` on an ephemeral loopback port for the duration of `body`.
func withLoopbackServer<T: Sendable>(_ services: [any RegistrableRPCService], _ body: (Int) async throws -> T) async throws -> T {
    let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
    return try await withGRPCServer(transport: transport, services: services) { _ in
        let address = try await transport.listeningAddress
        return try await body(try #require(address.ipv4?.port))
    }
}

/// A loopback port that was free a moment ago (for routers that must know each other's URL before starting).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    try #require(bound == 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    try #require(named == 0)
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Items a background stream appends, read by the test as they arrive.
final class Collected<Item: Sendable>: Sendable {
    private let items = Mutex<[Item]>([])

    func append(_ item: Item) { items.withLock { $0.append(item) } }
    var all: [Item] { items.withLock { $0 } }

    /// Waits until `condition` holds for the items so far; fails the test after `timeout`.
    @discardableResult
    func wait(timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation,
              until condition: ([Item]) -> Bool) async throws -> [Item] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let snapshot = all
            if condition(snapshot) { return snapshot }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting; got \(all.count) item(s)", sourceLocation: sourceLocation)
        throw CancellationError()
    }
}

/// Polls `condition` until it holds; fails the test after `timeout`.
func eventually(timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation,
                _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// A one-way switch shared with background tasks.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

func trace(_ message: String) {
    guard ProcessInfo.processInfo.environment["OAAS_TEST_TRACE"] != nil else { return }
    FileHandle.standardError.write(Data("TRACE \(Date().timeIntervalSince1970) \(Test.current?.name ?? "-") \(message)\n".utf8))
}
