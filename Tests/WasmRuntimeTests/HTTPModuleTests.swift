import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import OaaSProto
import Testing
import WAT
import WasmRuntime

/// Modules fetched over real loopback HTTP, as text and as binary.
@Suite struct HTTPModuleTests {
    /// Serves fixed files; `/hang` never answers. Every request's path goes to `requests`.
    final class FileHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let files: [String: [UInt8]]
        let requests: RequestLog
        private var uri = ""

        init(files: [String: [UInt8]], requests: RequestLog) {
            self.files = files
            self.requests = requests
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                uri = head.uri
                requests.record(head.uri)
            case .body: break
            case .end:
                if uri == "/hang" { return }
                let body = files[uri]
                var headers = HTTPHeaders()
                headers.add(name: "content-length", value: "\(body?.count ?? 0)")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: body == nil ? .notFound : .ok, headers: headers))), promise: nil)
                if let body { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil) }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }

    static func withServer(_ files: [String: [UInt8]], requests: RequestLog = RequestLog(),
                           _ body: (String) async throws -> Void) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FileHandler(files: files, requests: requests))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        do {
            try await body("http://127.0.0.1:\(port)")
        } catch {
            try? await channel.close()
            throw error
        }
        try await channel.close()
    }

    static func exampleText(_ name: String) throws -> [UInt8] {
        let url = exampleURL(name)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: String(url.dropFirst("file://".count)))))
    }

    @Test func watAndBinaryModulesLoadOverHTTP() async throws {
        let source = try Self.exampleText("echo")
        let binary = try wat2wasm(String(decoding: source, as: UTF8.self))
        try await Self.withServer(["/echo.wat": source, "/echo.wasm": binary]) { base in
            let runner = makeRunner()
            for path in ["/echo.wat", "/echo.wasm"] {
                let response = try await runner.invoke(fnCall(payload: "over \(path)"), functionKey: "echo", route: wasmRoute(base + path))
                #expect(response.status == .okay)
                #expect(text(response) == "over \(path)")
            }
        }
    }

    @Test func aMissingRemoteModuleIsASystemErrorNamingTheStatus() async throws {
        try await Self.withServer([:]) { base in
            let response = try await makeRunner().invoke(fnCall(), functionKey: "echo", route: wasmRoute(base + "/nope.wasm"))
            #expect(response.status == .systemError)
            #expect(text(response) == "wasm function 'echo': fetching wasm module \(base)/nope.wasm answered HTTP 404")
        }
    }

    @Test func aRemoteModuleAboveTheSizeCapIsRefused() async throws {
        try await Self.withServer(["/big.wat": [UInt8](repeating: 0x20, count: 4096)]) { base in
            let runner = makeRunner(settings: WasmRunnerSettings(maxModuleBytes: 1024))
            let response = try await runner.invoke(fnCall(), functionKey: "big", route: wasmRoute(base + "/big.wat"))
            #expect(response.status == .systemError)
            #expect(text(response).contains("is 4096 bytes, above the 1024-byte limit"))
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        try await Self.withServer([:]) { base in
            let runner = makeRunner(settings: WasmRunnerSettings(fetchTimeout: .milliseconds(200)))
            let started = ContinuousClock.now
            let response = try await runner.invoke(fnCall(), functionKey: "slow", route: wasmRoute(base + "/hang"))
            #expect(response.status == .systemError)
            #expect(text(response).contains("fetching wasm module \(base)/hang failed"))
            // Without the fetch timeout the call would wait forever.
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }
}
