import Foundation
import OaaSCore
import OaaSProto
import Synchronization
import Testing
@testable import ODGM

/// Runtimes that misbehave below gRPC: the call answers SYSTEM_ERROR naming the runtime, and the node keeps serving.
@Suite struct InvocationBadRuntimeTests {
    @Test(arguments: [
        GarbageServer.Reply.bytes(Array("\u{0}\u{1}\u{2}this is not HTTP/2 at all\r\n\r\n".utf8)),
        GarbageServer.Reply.bytes(Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8)),
        GarbageServer.Reply.closeAtOnce,
    ])
    func aRuntimeThatAnswersGarbageIsASystemError(_ reply: GarbageServer.Reply) async throws {
        let garbage = try GarbageServer(reply: reply)
        defer { garbage.stop() }
        let url = "http://127.0.0.1:\(garbage.port)"
        try await InvocationHarness.run(extraRoutes: ["garbage": fnRoute(url)]) { h in
            for _ in 0..<3 {
                let response = try await h.invoker.invokeFn(fnCall("garbage"), context: CallContext(deadline: .now + .seconds(10)))
                #expect(response.status == .systemError)
                #expect(payloadText(response).contains(url))
            }
            #expect(garbage.accepted > 0, "the runtime was really called")
            // The node is unharmed: a good runtime still answers.
            let echo = try await h.invoker.invokeFn(fnCall("echo", payload: "still here"), context: CallContext())
            #expect(echo.status == .okay)
            #expect(payloadText(echo) == "still here")
        }
    }
}

/// A loopback TCP server that answers every connection with `reply` and closes it, on its own thread.
final class GarbageServer: Sendable {
    enum Reply: Sendable, CustomTestStringConvertible {
        case bytes([UInt8])
        case closeAtOnce

        var testDescription: String {
            switch self {
            case .bytes(let bytes): return "\(bytes.count) bytes of garbage"
            case .closeAtOnce: return "close at once"
            }
        }
    }

    let port: Int
    private let fd: Int32
    private let count = Mutex(0)
    private let stopped = Mutex(false)

    init(reply: Reply) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound && listen(fd, 16) == 0)
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve(reply) }
        thread.start()
    }

    var accepted: Int { count.withLock { $0 } }

    func stop() {
        stopped.withLock { $0 = true }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func serve(_ reply: Reply) {
        while !stopped.withLock({ $0 }) {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            count.withLock { $0 += 1 }
            if case .bytes(let bytes) = reply {
                var scratch = [UInt8](repeating: 0, count: 1024)
                _ = read(client, &scratch, scratch.count) // let the client's preface arrive first
                _ = bytes.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            }
            close(client)
        }
    }
}
