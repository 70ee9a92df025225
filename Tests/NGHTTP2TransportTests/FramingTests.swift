import GRPCCore
import NIOCore
import Testing
@testable import NGHTTP2Transport
import CNGHTTP2

@Suite struct FramingTests {
    @Test func linksTheSystemLibrary() {
        let info = nghttp2_version(0)
        #expect(info != nil)
    }

    @Test func messagesSplitAcrossReadsComeOutWhole() throws {
        var framed = ByteBuffer()
        GRPCMessageFramer.frame(H2Bytes(Array("hello".utf8)), into: &framed)
        GRPCMessageFramer.frame(H2Bytes(Array("".utf8)), into: &framed)
        var deframer = GRPCMessageDeframer(maxMessageBytes: 100)
        let bytes = Array(framed.readableBytesView)
        var messages: [String] = []
        for byte in bytes {
            deframer.append(ByteBuffer(bytes: [byte]))
            while let message = try deframer.next() { messages.append(String(buffer: message)) }
        }
        #expect(messages == ["hello", ""])
        #expect(!deframer.hasPartialMessage)
    }

    @Test func oversizeAndCompressedMessagesAreRejected() {
        var big = GRPCMessageDeframer(maxMessageBytes: 4)
        big.append(ByteBuffer(bytes: [0, 0, 0, 0, 5, 1, 2, 3, 4, 5]))
        #expect(throws: RPCError.self) { try big.next() }
        var compressed = GRPCMessageDeframer(maxMessageBytes: 4)
        compressed.append(ByteBuffer(bytes: [1, 0, 0, 0, 1, 9]))
        #expect(throws: RPCError.self) { try compressed.next() }
    }

    @Test func statusMessagesArePercentEncoded() {
        let message = "bad 100% — field \"x\"\n"
        let encoded = GRPCHeaders.percentEncode(message)
        #expect(!encoded.contains("\n"))
        #expect(encoded.contains("%25"))
        #expect(GRPCHeaders.percentDecode(encoded) == message)
    }

    @Test func binaryMetadataRoundTrips() {
        var metadata = Metadata()
        metadata.addBinary([0, 1, 2, 250, 251], forKey: "trace-bin")
        metadata.addString("v", forKey: "X-Plain")
        metadata.addString("application/grpc", forKey: "content-type")
        let fields = GRPCHeaders.fields(of: metadata)
        #expect(fields.map(\.name) == ["trace-bin", "x-plain"])
        var back = Metadata()
        for field in fields {
            Array(field.value.utf8).withUnsafeBytes { GRPCHeaders.add(name: field.name, value: $0, to: &back) }
        }
        #expect(Array(back[binaryValues: "trace-bin"]) == [[0, 1, 2, 250, 251]])
        #expect(Array(back[stringValues: "x-plain"]) == ["v"])
        // Unpadded values, as some peers send them.
        var unpadded = Metadata()
        Array("AAEC".utf8).withUnsafeBytes { GRPCHeaders.add(name: "a-bin", value: $0, to: &unpadded) }
        Array("AAECAw".utf8).withUnsafeBytes { GRPCHeaders.add(name: "b-bin", value: $0, to: &unpadded) }
        #expect(Array(unpadded[binaryValues: "a-bin"]) == [[0, 1, 2]])
        #expect(Array(unpadded[binaryValues: "b-bin"]) == [[0, 1, 2, 3]])
    }
}
