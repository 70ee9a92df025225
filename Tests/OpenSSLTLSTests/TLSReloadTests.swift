import Foundation
import NIOCore
import OpenSSLTLS
import Testing

@Suite struct TLSReloadTests {
    let certs: CertFixture
    init() throws { certs = try CertFixture.shared() }

    /// Overwrites `path` in place (same inode), as an editor or `cp` would.
    func overwrite(_ path: String, withContentsOf source: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: data)
        try handle.close()
    }

    @Test func newConnectionsSeeAReloadedCertificateExistingOnesAreUnaffected() async throws {
        let files = try certs.copyOfServerFiles()
        // Interval zero: every new connection re-checks the files (the default is once a second).
        let serverTLS = try TLSContext(
            configuration: .server(certificateChainFile: files.cert, privateKeyFile: files.key),
            reloadCheckInterval: .zero)
        let server = try await TLSEchoServer.start(serverTLS)
        defer { Task { await server.stop() } }
        let clientTLS = try TLSContext(configuration: .client(serverName: "localhost", trustRootsFile: certs.caCert))

        let first = try await TLSTestClient.connect(port: server.port, clientTLS)
        let firstDone = try await awaitHandshake(first.events).get()
        #expect(firstDone.peerCertificateSerial == CertFixture.serverSerial)
        #expect(serverTLS.generation == 1)

        try overwrite(files.cert, withContentsOf: certs.server2Cert)
        try overwrite(files.key, withContentsOf: certs.server2Key)

        let second = try await TLSTestClient.connect(port: server.port, clientTLS)
        let secondDone = try await awaitHandshake(second.events).get()
        #expect(secondDone.peerCertificateSubject == CertFixture.server2Subject)
        #expect(secondDone.peerCertificateSerial == CertFixture.server2Serial)
        #expect(serverTLS.generation == 2)

        // The first connection keeps working on its original session.
        let message = randomBytes(70_000)
        try await first.send(message)
        #expect(await readBytes(first.events, count: message.count) == message)

        // A broken certificate file is refused; the last good certificate stays in service.
        try "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
            .write(toFile: files.cert, atomically: false, encoding: .utf8)
        let third = try await TLSTestClient.connect(port: server.port, clientTLS)
        #expect(try await awaitHandshake(third.events).get().peerCertificateSerial == CertFixture.server2Serial)
        #expect(serverTLS.generation == 2)
        // Unchanged broken files are not retried (no error every second) ...
        #expect(serverTLS.reloadIfChanged() == .unchanged)
        // ... and fixing them is picked up.
        try overwrite(files.cert, withContentsOf: certs.server2Cert)
        #expect(serverTLS.reloadIfChanged() == .reloaded)
        #expect(serverTLS.generation == 3)

        try await first.channel.close()
        try await second.channel.close()
        try await third.channel.close()
    }

    @Test func reloadFailureNamesTheFile() throws {
        let files = try certs.copyOfServerFiles()
        let tls = try TLSContext(configuration: .server(certificateChainFile: files.cert, privateKeyFile: files.key))
        // A certificate whose key is not the configured one.
        try overwrite(files.cert, withContentsOf: certs.clientCert)
        guard case .failed(let error) = tls.reloadIfChanged() else {
            Issue.record("expected the reload to fail")
            return
        }
        #expect(error.kind == .fileLoad)
        #expect(error.file == files.key)
        #expect(error.message.contains("does not match"))
        #expect(tls.generation == 1)
    }

    @Test func checksFilesAtMostOncePerInterval() async throws {
        let files = try certs.copyOfServerFiles()
        let serverTLS = try TLSContext(
            configuration: .server(certificateChainFile: files.cert, privateKeyFile: files.key),
            reloadCheckInterval: .seconds(3600))
        let server = try await TLSEchoServer.start(serverTLS)
        defer { Task { await server.stop() } }
        try overwrite(files.cert, withContentsOf: certs.server2Cert)
        try overwrite(files.key, withContentsOf: certs.server2Key)
        // A new connection within the interval does not look at the files ...
        let clientTLS = try TLSContext(configuration: .client(serverName: "localhost", trustRootsFile: certs.caCert))
        let client = try await TLSTestClient.connect(port: server.port, clientTLS)
        #expect(try await awaitHandshake(client.events).get().peerCertificateSerial == CertFixture.serverSerial)
        #expect(serverTLS.generation == 1)
        // ... an explicit check does.
        #expect(serverTLS.reloadIfChanged() == .reloaded)
        #expect(serverTLS.generation == 2)
        try await client.channel.close()
    }
}
