import Foundation
import GRPCCore
import OaaSProto
import Testing

/// Bad input gets a clear error, loses nothing, and the process keeps serving.
@Suite(.serialized) struct RobustnessTests {
    @Test func badRestInputIsRejectedAndNothingIsLost() async throws {
        let port = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dev = try await OaasProcess(["dev", "--gateway-port", String(port), "--port", String(freePort()), "--data-dir", dir], port: port)
        let base = "/api/class/docs/0/objects-str/doc-1"
        #expect(try await dev.http("PUT", base + "/entries-str/title", body: Data("first".utf8)).0 == 204)

        func errorCode(_ body: Data) -> String? {
            let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
            return (json?["error"] as? [String: Any])?["code"] as? String
        }
        let cases: [(String, String, Data?, [String: String], Int, String)] = [
            ("PUT", "/api/class/docs/0/objects-str/Bad$Id", Data("{}".utf8), ["Content-Type": "application/json"], 400, "INVALID_OBJECT_ID"),
            ("PUT", "/api/class/docs/0/objects-str/" + String(repeating: "a", count: 161), Data("{}".utf8), ["Content-Type": "application/json"], 400, "INVALID_OBJECT_ID"),
            ("PUT", base, Data("{not json".utf8), ["Content-Type": "application/json"], 400, "INVALID_ARGUMENT"),
            ("PUT", base, Data("{\"bogus\":1}".utf8), ["Content-Type": "application/json"], 400, "INVALID_ARGUMENT"),
            ("PUT", base, Data([0xFF, 0xFF, 0xFF]), ["Content-Type": "application/x-protobuf"], 400, "INVALID_ARGUMENT"),
            ("PUT", base, Data("x".utf8), ["Content-Type": "text/plain"], 415, "UNSUPPORTED_MEDIA_TYPE"),
            ("PUT", base + "/entries-str/big", Data(count: 4 * 1024 * 1024 + 1), [:], 413, "PAYLOAD_TOO_LARGE"),
            ("GET", "/api/class/docs/99999999999/objects/1", nil, [:], 400, "INVALID_ARGUMENT"),
            ("GET", "/api/class/docs/16/objects/1", nil, [:], 404, "NO_PARTITION"),
            ("GET", "/api/class/unknown/0/objects/1", nil, [:], 404, "NO_CLASS"),
            ("GET", "/api/nothing/here", nil, [:], 404, "NOT_FOUND"),
        ]
        for (method, path, body, headers, status, code) in cases {
            let (got, _, data) = try await dev.http(method, path, body: body, headers: headers)
            #expect(got == status, "\(method) \(path.prefix(60))")
            #expect(errorCode(data) == code, "\(method) \(path.prefix(60)): \(String(decoding: data, as: UTF8.self))")
        }

        // A body that ends before its Content-Length writes nothing.
        try await truncatedRequest(port: port, path: base + "/entries-str/title", declared: 100, sent: Data("second".utf8))
        let (status, headers, value) = try await dev.http("GET", base + "/entries-str/title")
        #expect(status == 200 && String(decoding: value, as: UTF8.self) == "first")
        #expect(headers["x-oprc-object-version"] == "1")

        // Malformed gRPC input: an undecodable message and a Set without its object.
        try await dev.withClient { grpc in
            let data = Oprc_DataService.Client(wrapping: grpc)
            var request = Oprc_SetObjectRequest()
            request.clsID = "docs"
            request.objectIDStr = "doc-2"
            #expect(await rpcCode { _ = try await data.set(request) } == .invalidArgument)
            let raw = try await grpc.unary(
                request: ClientRequest(message: [UInt8]([0x0A, 0xFF, 0xFF])),
                descriptor: MethodDescriptor(fullyQualifiedService: "oprc.DataService", method: "Get"),
                serializer: RawSerializer(), deserializer: RawDeserializer(), options: .defaults
            ) { response in response.accepted.map { _ in true } }
            #expect((try? raw.get()) == nil)
        }
        #expect(try await dev.http("GET", "/healthz").0 == 200)
    }

    @Test func malformedConfigurationExitsTwoNamingTheVariable() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [([String: String], String)] = [
            (["ODGM_COLLECTION": "[{\"name\":\"a\",\"shard_type\":\"paxos\"}]"], "shard_type"),
            (["ODGM_COLLECTION": "{oops"], "ODGM_COLLECTION"),
            (["ODGM_COLLECTION": "[{\"name\":\"a\",\"partition_count\":\"x\"}]"], "ODGM_COLLECTION[0]"),
            (["ODGM_HTTP_PORT": "eighty"], "ODGM_HTTP_PORT"),
            (["ODGM_MEMBERS": "1,x", "ODGM_NODE_ID": "1"], "ODGM_MEMBERS"),
            (["LOG_LEVEL": "loud"], "LOG_LEVEL"),
        ]
        for (env, needle) in cases {
            var environment = env
            environment["ODGM_DATA_DIR"] = dir
            environment["ODGM_HTTP_PORT"] = env["ODGM_HTTP_PORT"] ?? String(freePort())
            let (code, _, stderr) = try await runCLI(["serve", "--role", "odgm"], environment: environment)
            #expect(code == 2, "\(env)")
            #expect(stderr.contains(needle), "\(env): \(stderr)")
        }
    }

    @Test func everyAcknowledgedWriteSurvivesSIGKILL() async throws {
        let port = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["ODGM_HTTP_PORT": String(port), "ODGM_DATA_DIR": dir, "ODGM_COLLECTION": collectionJSON("kv")]
        let acknowledged = AckLog()
        do {
            let odgm = try await OaasProcess(["serve", "--role", "odgm"], port: port, environment: environment)
            try await odgm.withClient { grpc in
                let data = Oprc_DataService.Client(wrapping: grpc)
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<32 {
                        group.addTask {
                            var i = 0
                            while true {
                                var request = Oprc_SetKeyRequest()
                                request.clsID = "kv"
                                request.partitionID = Int32(writer % 4)
                                request.objectID = UInt64(writer + 1)
                                request.key = UInt32(i)
                                request.value = valData("w\(writer)-\(i)")
                                do {
                                    _ = try await data.setValue(request)
                                    acknowledged.add(writer: writer, key: i)
                                } catch {
                                    return
                                }
                                i += 1
                            }
                        }
                    }
                    group.addTask {
                        // Kill mid-stream once enough writes were acknowledged to prove something, however slow
                        // the machine is (a fixed delay acknowledged too few on a loaded CI runner).
                        let deadline = ContinuousClock.now + .seconds(30)
                        try? await Task.sleep(for: .milliseconds(500))
                        while acknowledged.all.values.reduce(0, +) < 300, ContinuousClock.now < deadline {
                            try? await Task.sleep(for: .milliseconds(50))
                        }
                        odgm.signal(SIGKILL)
                    }
                }
            }
            _ = try await odgm.waitForExit()
        }
        let acked = acknowledged.all
        #expect(acked.values.reduce(0, +) > 100, "too few writes were acknowledged to prove anything")
        let odgm = try await OaasProcess(["serve", "--role", "odgm"], port: port, environment: environment)
        try await odgm.withClient { grpc in
            let data = Oprc_DataService.Client(wrapping: grpc)
            var missing = 0
            for (writer, count) in acked {
                var get = Oprc_SingleObjectRequest()
                get.clsID = "kv"
                get.partitionID = UInt32(writer % 4)
                get.objectID = UInt64(writer + 1)
                let object = try await data.get(get)
                for key in 0..<count where object.obj.entries[UInt32(key)]?.data != Data("w\(writer)-\(key)".utf8) {
                    missing += 1
                }
            }
            #expect(missing == 0)
        }
    }

    @Test func sigtermDrainsAndExitsZero() async throws {
        let port = freePort()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let odgm = try await OaasProcess(["serve", "--role", "odgm"], port: port, environment: [
            "ODGM_HTTP_PORT": String(port), "ODGM_DATA_DIR": dir, "ODGM_COLLECTION": collectionJSON("kv"),
        ])
        // A connection that never sends a byte must not hold shutdown up.
        let idle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(idle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        defer { close(idle) }
        odgm.signal(SIGTERM)
        #expect(try await odgm.waitForExit(timeout: .seconds(12)) == 0)
    }
}

/// Which keys each writer had acknowledged (keys are written in order, so a count suffices).
final class AckLog: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Int: Int] = [:]
    func add(writer: Int, key: Int) {
        lock.lock()
        counts[writer] = max(counts[writer] ?? 0, key + 1)
        lock.unlock()
    }
    var all: [Int: Int] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}

struct RawSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

struct RawDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// Sends a request whose body is shorter than its Content-Length, then closes the connection.
func truncatedRequest(port: Int, path: String, declared: Int, sent: Data) async throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard connected == 0 else { throw HarnessError("connect failed") }
    let head = "PUT \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(declared)\r\n\r\n"
    let bytes = Data(head.utf8) + sent
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    shutdown(fd, Int32(SHUT_WR))
    try await Task.sleep(for: .milliseconds(200))
}
