import Foundation
import NIOCore
import NIOPosix
import OpenSSLTLS
import Testing

@Suite struct TLSContextTests {
    let certs: CertFixture
    init() throws { certs = try CertFixture.shared() }

    @Test func missingFileIsNamed() throws {
        let missing = certs.directory + "/nope.pem"
        let error = try #require(throws: TLSError.self) {
            try TLSContext(configuration: .server(certificateChainFile: missing, privateKeyFile: certs.serverKey))
        }
        #expect(error.kind == .fileLoad)
        #expect(error.file == missing)
        #expect(error.description.contains(missing))
        #expect(error.message.contains("No such file"))
    }

    @Test func badPEMCarriesOpenSSLsReason() throws {
        let bad = certs.directory + "/bad-\(UInt32.random(in: 0...UInt32.max)).pem"
        try "this is not PEM\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let error = try #require(throws: TLSError.self) {
            try TLSContext(configuration: .server(certificateChainFile: bad, privateKeyFile: certs.serverKey))
        }
        #expect(error.file == bad)
        #expect(error.message.contains("no start line"))

        let caError = try #require(throws: TLSError.self) {
            try TLSContext(configuration: .client(trustRootsFile: bad))
        }
        #expect(caError.file == bad)
    }

    @Test func invalidConfigurationsAreRejected() throws {
        let noKey = TLSConfiguration(role: .server, certificateChainFile: certs.serverCert)
        #expect(throws: TLSError.self) { try TLSContext(configuration: noKey) }
        let mtlsWithoutRoots = TLSConfiguration.server(
            certificateChainFile: certs.serverCert, privateKeyFile: certs.serverKey, clientCertificate: .require)
        #expect(throws: TLSError.self) { try TLSContext(configuration: mtlsWithoutRoots) }
        let badALPN = TLSConfiguration.client(applicationProtocols: [""])
        #expect(throws: TLSError.self) { try TLSContext(configuration: badALPN) }
        let longALPN = TLSConfiguration.client(applicationProtocols: [String(repeating: "x", count: 256)])
        #expect(throws: TLSError.self) { try TLSContext(configuration: longALPN) }
    }

    /// Arbitrary bytes (some shaped like TLS records) from many raw clients: every such connection must end,
    /// nothing may crash, and the listener must keep serving.
    @Test func arbitraryInputNeverCrashesTheServer() async throws {
        let server = try await TLSEchoServer.start(TLSContext(configuration: .server(
            certificateChainFile: certs.serverCert, privateKeyFile: certs.serverKey)))
        defer { Task { await server.stop() } }
        var connections = server.connections.makeAsyncIterator()
        let prefixes: [[UInt8]] = [
            [], [0x16, 0x03, 0x01], [0x16, 0x03, 0x03, 0xff, 0xff], [0x17, 0x03, 0x03, 0, 5],
            [0x15, 0x03, 0x03, 0, 2, 2, 40], [0x16, 0x03, 0x01, 0, 4, 1, 0, 0, 0], [0x16, 0x03, 0x01, 0x00, 0x00],
            [0x80, 0x2e, 0x01, 0x00, 0x02],  // SSLv2-style hello
        ]
        let rounds = 64
        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<rounds {
                group.addTask {
                    let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(host: "127.0.0.1", port: server.port).get()
                    let bytes = prefixes[round % prefixes.count] + randomBytes(Int.random(in: 0...2000))
                    var offset = 0
                    while offset < bytes.count {
                        let take = min(bytes.count - offset, Int.random(in: 1...300))
                        try? await raw.writeAndFlush(ByteBuffer(bytes: bytes[offset..<offset + take]))
                        offset += take
                    }
                    try? await raw.close()
                }
            }
            try await group.waitForAll()
        }
        for _ in 0..<rounds {
            let serverSide = try #require(await connections.next())
            _ = await awaitClose(serverSide)
        }
        let client = try await TLSTestClient.connect(port: server.port, TLSContext(configuration: .client(
            serverName: "localhost", trustRootsFile: certs.caCert)))
        #expect(try await awaitHandshake(client.events).get().negotiatedProtocol == "h2")
        try await client.channel.close()
    }
}
