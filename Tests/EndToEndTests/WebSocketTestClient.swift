import Foundation
import NIOCore
import NIOPosix

/// A minimal WebSocket client for tests (RFC 6455): sends the upgrade request, checks the 101, and collects the text
/// frames the server sends. Server frames are unmasked; control frames are skipped.
final class WebSocketTestClient: @unchecked Sendable {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private var buffer = ByteBuffer()
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Connects to 127.0.0.1:`port` and upgrades `path`; returns nil with the status line when the server refused.
    static func connect(port: Int, path: String) async throws -> (client: WebSocketTestClient?, status: String) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let client = WebSocketTestClient(channel)
        let status: String
        do {
            status = try await client.handshake(path: path, port: port)
        } catch {
            await client.close()
            throw error
        }
        guard status.contains(" 101 ") else {
            await client.close()
            return (nil, status)
        }
        return (client, status)
    }

    private init(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.channel = channel
        self.iterator = channel.inbound.makeAsyncIterator()
        self.outbound = channel.outbound
    }

    private func handshake(path: String, port: Int) async throws -> String {
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try await outbound.write(ByteBuffer(string: request))
        while true {
            let view = buffer.readableBytesView
            if let end = view.firstRange(of: Array("\r\n\r\n".utf8)) {
                let length = view.distance(from: view.startIndex, to: end.upperBound)
                let head = buffer.readString(length: length) ?? ""
                return String(head.prefix { $0 != "\r" })
            }
            guard try await receive() else { return "connection closed" }
        }
    }

    private func receive() async throws -> Bool {
        guard var more = try await iterator.next() else { return false }
        buffer.writeBuffer(&more)
        return true
    }

    /// The next text frame; nil when the connection closed (or a close frame came). `closeReason` holds its text.
    private(set) var closeCode: UInt16?
    private(set) var closeReason: String?

    func nextText() async throws -> String? {
        while true {
            if let (opcode, payload) = takeFrame() {
                switch opcode {
                case 0x1: return String(decoding: payload, as: UTF8.self)
                case 0x8:
                    if payload.count >= 2 {
                        closeCode = UInt16(payload[0]) << 8 | UInt16(payload[1])
                        closeReason = String(decoding: payload.dropFirst(2), as: UTF8.self)
                    }
                    return nil
                default: continue
                }
            }
            guard try await receive() else { return nil }
        }
    }

    private func takeFrame() -> (UInt8, [UInt8])? {
        let bytes = Array(buffer.readableBytesView)
        guard bytes.count >= 2 else { return nil }
        var length = Int(bytes[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard bytes.count >= offset + length else { return nil }
        buffer.moveReaderIndex(forwardBy: offset + length)
        return (bytes[0] & 0x0F, Array(bytes[offset..<(offset + length)]))
    }

    /// Finishes the writer (NIO requires it before the channel goes) and closes the connection.
    func close() async {
        outbound.finish()
        try? await channel.channel.close()
    }
}

/// Runs `body` with an upgraded socket (nil and the status line when the server refused), closing it afterwards
/// whatever happens.
func withWebSocket<T>(port: Int, path: String, _ body: (WebSocketTestClient?, String) async throws -> T) async throws -> T {
    let (client, status) = try await WebSocketTestClient.connect(port: port, path: path)
    do {
        let result = try await body(client, status)
        await client?.close()
        return result
    } catch {
        await client?.close()
        throw error
    }
}
